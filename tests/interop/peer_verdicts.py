#!/usr/bin/env python3
"""What two independent verifiers say about each signature of PDFs: poppler's pdfsig and pyHanko.

Usage: peer_verdicts.py [--trust-root ROOT.pem ...] FILE...

The Rust verification tests use this to document where sigillum's verdict agrees or
disagrees with its peers (attack fixtures in particular: see attacks.py, which imports this
module). Neither peer is an oracle; both are recorded side by side.

Output, one JSON line per FILE:

  {"file",
   "pdfsig": {"exit_code", "error", "signatures": [PDFSIG...]},
   "pyhanko": {"error", "strict_error", "dss", "signatures": [PYHANKO...]}}

  PDFSIG  = {"index", "field", "validation", "valid", "total_document_signed",
             "signed_ranges", "signature_type"}
  PYHANKO = {"field", "type", "judged", "intact", "valid", "trusted", "coverage",
             "modification_level", "docmdp_ok", "timestamp_valid", "summary", "status",
             "error"}

pdfsig: `pdfsig -nocert FILE` (certificate validation needs an NSS database; it is not what
is compared here). "validation" is pdfsig's "Signature Validation:" text ("Signature is
Valid.", "Digest Mismatch.", "Signature has not yet been verified." for document timestamps,
...), "valid" whether it is exactly "Signature is Valid.", "total_document_signed" whether
pdfsig printed "Total document signed" (false for "Not total document signed", null when it
printed neither). "error" holds pdfsig's stderr/stdout when it listed no signature.

pyHanko: every filled signature field (pyhanko.sign.fields.enumerate_sig_fields), each
validated separately with tests/interop/validate.py's B-B logic (offline; only the
--trust-root certificates are trusted, none when the option is absent, which leaves
"trusted" false but intact/valid/coverage/modification_level/docmdp_ok meaningful). The file
is read strictly, as pyHanko does by default; when that fails "strict_error" says why and
the lenient reader (strict=False) is used. "judged" is false when pyHanko's validation raised
instead of producing a status ("error" says what): "intact"/"valid" are then those of
pyHanko's bare CMS check of the ByteRange digest and signature value (null when even that
cannot run), not a verdict on the PDF. A field whose signature pyHanko cannot even load (no
/ByteRange, unparsable /Contents, ...) is listed with that "error" and nulls, instead of
hiding the other fields. "type" is the signature dictionary's /Type (/Sig or
/DocTimeStamp); for document timestamps "docmdp_ok" and "timestamp_valid" are null. "error"
at the file level means pyHanko could not open the file at all.

Exit status: 0 whatever the verdicts, 1 when pdfsig is missing (with an install hint),
2 on usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

SETUP_HINT = "run scripts/setup.sh test and use its venv's python"

try:
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation import EmbeddedPdfSignature
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"peer_verdicts: {e.name} is missing; {SETUP_HINT}")

sys.dont_write_bytecode = True  # no __pycache__ next to the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate  # noqa: E402  (tests/interop/validate.py)

PYHANKO_KEYS = ("intact", "valid", "trusted", "coverage", "modification_level", "docmdp_ok",
                "timestamp_valid", "summary", "status", "error")  # fmt: skip


class ToolMissing(Exception):
    pass


def pdfsig_path() -> str:
    found = shutil.which("pdfsig")
    if found is None:
        raise ToolMissing(f"'pdfsig' not found; apt-get install poppler-utils, or {SETUP_HINT}")
    return found


# ---- pdfsig --------------------------------------------------------------------------------


def pdfsig_verdicts(path: str | Path, pdfsig: str | None = None) -> dict[str, Any]:
    """Parse `pdfsig -nocert FILE` into one record per signature, in pdfsig's order."""
    pdfsig = pdfsig or pdfsig_path()
    try:
        proc = subprocess.run([pdfsig, "-nocert", str(path)], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"exit_code": None, "error": "pdfsig timed out after 120 s", "signatures": []}
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    sigs: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in out.splitlines():
        m = re.match(r"^Signature #(\d+):", line)
        if m:
            current = dict(index=int(m.group(1)), field=None, validation=None, valid=False,
                           total_document_signed=None, signed_ranges=None,
                           signature_type=None)  # fmt: skip
            sigs.append(current)
            continue
        if current is None:
            continue
        item = line.strip().removeprefix("- ")
        if item == "Total document signed":
            current["total_document_signed"] = True
        elif item == "Not total document signed":
            current["total_document_signed"] = False
        elif ":" in item:
            key, _, value = item.partition(":")
            value = value.strip()
            if key == "Signature Field Name":
                current["field"] = value
            elif key == "Signature Validation":
                current["validation"] = value
                current["valid"] = value == "Signature is Valid."
            elif key == "Signed Ranges":
                current["signed_ranges"] = value
            elif key == "Signature Type":
                current["signature_type"] = value
    error = None
    if not sigs:
        # NSS's shutdown chatter is noise, not a verdict.
        text = "\n".join(
            line for line in (err + out).splitlines() if not line.startswith("NSS_Shutdown")
        ).strip()
        error = text or f"pdfsig exited {proc.returncode} and listed no signature"
    return {"exit_code": proc.returncode, "error": error, "signatures": sigs}


# ---- pyHanko -------------------------------------------------------------------------------


def _empty(field: str | None, error: str) -> dict[str, Any]:
    rec: dict[str, Any] = {k: None for k in PYHANKO_KEYS}
    rec.update(field=field, type=None, judged=False, summary="INVALID", error=error)
    return rec


def bare_integrity(sig: EmbeddedPdfSignature) -> tuple[bool | None, bool | None]:
    """pyHanko's CMS check alone (digest of the ByteRange, signature value), no PDF logic."""
    try:
        kind = "tst_info" if sig.sig_object_type == "/DocTimeStamp" else "data"
        return validate_sig_integrity(sig.signer_info, sig.signer_cert, kind, sig.compute_digest())
    except Exception:  # noqa: BLE001
        return None, None


def open_reader(data: bytes) -> tuple[PdfFileReader, list, str | None]:
    """pyHanko's default strict reader; the lenient one when strict reading fails."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        return reader, list(enumerate_sig_fields(reader, filled_status=True)), None
    except Exception as e:  # noqa: BLE001
        strict_error = f"{type(e).__name__}: {e}"
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return reader, list(enumerate_sig_fields(reader, filled_status=True)), strict_error


async def pyhanko_verdicts_async(path: str | Path, roots: list) -> dict[str, Any]:
    validator = validate.Validator(roots, "B-B")
    result: dict[str, Any] = {"error": None, "strict_error": None, "dss": None,
                              "signatures": []}  # fmt: skip
    try:
        reader, fields, result["strict_error"] = open_reader(Path(path).read_bytes())
    except Exception as e:  # noqa: BLE001 - an unreadable file is a verdict
        result["error"] = f"{type(e).__name__}: {e}"
        return result
    try:
        revinfo = validate.FileRevinfo.read(reader)
        result["dss"] = revinfo.summary()
    except Exception as e:  # noqa: BLE001
        revinfo = validate.FileRevinfo([], [], [], 0, False)
        result["dss"] = {"error": f"{type(e).__name__}: {e}"}
    loaded: list[tuple[str, EmbeddedPdfSignature | None, str | None]] = []
    for name, _value, field_ref in fields:
        try:
            loaded.append((name, EmbeddedPdfSignature(reader, field_ref, name), None))
        except Exception as e:  # noqa: BLE001
            loaded.append((name, None, f"{type(e).__name__}: {e}"))
    doc_ts_revs = []
    for _, sig, _ in loaded:
        if sig is not None:
            try:
                if sig.sig_object_type == "/DocTimeStamp":
                    doc_ts_revs.append(sig.signed_revision)
            except Exception:  # noqa: BLE001
                pass
    for name, sig, error in loaded:
        if sig is None:
            result["signatures"].append(_empty(name, error or "not loaded"))
            continue
        try:
            kind = str(sig.sig_object_type)
            if kind == "/DocTimeStamp":
                full = await validator.doc_timestamp(sig, revinfo)
            else:
                later = any(rev > sig.signed_revision for rev in doc_ts_revs)
                full = await validator.regular(sig, revinfo, later)
        except Exception as e:  # noqa: BLE001
            result["signatures"].append(_empty(name, f"{type(e).__name__}: {e}"))
            continue
        rec = {"field": name, "type": kind, "judged": full.get("status") is not None}
        rec.update({k: full.get(k) for k in PYHANKO_KEYS})
        if not rec["judged"]:
            # Validation raised: intact/valid are then not pyHanko's verdict; report what
            # its bare CMS check says about the signed bytes instead.
            rec["intact"], rec["valid"] = bare_integrity(sig)
        result["signatures"].append(rec)
    return result


def pyhanko_verdicts(path: str | Path, roots: list) -> dict[str, Any]:
    return asyncio.run(pyhanko_verdicts_async(path, roots))


def verdicts(path: str | Path, roots: list, pdfsig: str | None = None) -> dict[str, Any]:
    return {
        "file": str(path),
        "pdfsig": pdfsig_verdicts(path, pdfsig),
        "pyhanko": pyhanko_verdicts(path, roots),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trust-root", action="append", default=[], metavar="ROOT.pem",
                        help="trusted root certificate(s) for pyHanko, PEM or DER; may be "
                             "repeated (default: none)")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show pyHanko's warnings and errors on stderr")  # fmt: skip
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.CRITICAL, stream=sys.stderr
    )
    roots: list = []
    if args.trust_root:
        try:
            roots = list(load_certs_from_pemder(args.trust_root))
        except (OSError, ValueError) as e:
            parser.error(f"cannot load --trust-root: {e}")
        if not roots:
            parser.error("no certificate in --trust-root")
    try:
        pdfsig = pdfsig_path()
    except ToolMissing as e:
        print(f"peer_verdicts: {e}", file=sys.stderr)
        return 1
    for path in args.files:
        print(json.dumps(verdicts(path, roots, pdfsig)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
