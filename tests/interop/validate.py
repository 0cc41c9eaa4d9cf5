#!/usr/bin/env python3
r"""Validate the signatures in PDFs with the pyHanko library, offline, one JSON line per file.

Usage: validate.py --trust-root ROOT.pem [--trust-root MORE.pem] [--expect-level LEVEL] FILE...

Only the given roots are trusted (never the OS store) and nothing is fetched from the network:
a signature that chains elsewhere, such as the pre-existing one in the corpus's
pyhanko_signed.pdf, is reported with "trusted": false instead of stopping the run. The exit
status is 0 whatever the verdicts (the Rust tests judge them) and 2 on usage errors.

What each --expect-level does (default B-B):

  B-B, B-T  pyHanko's classic validation (what `pyhanko sign validate` runs) at the current
            time, revocation "soft-fail" with nothing to go on: no fetching, and the file's
            own revocation data is left to the B-LT check.
  B-LT      the same classic validation, but against revocation data from the file only (the
            DSS plus the signature's Adobe revocation-info-archival attribute), "hard-fail"
            (every certificate that names a CRL or OCSP endpoint needs data that covers it),
            at the time of the signature timestamp with revocation data accepted
            retroactively. That is what pyHanko's PAdES-LT LTV mode did before 0.38 removed
            it, and it keeps a file valid after its OCSP responses' nextUpdate has passed.
  B-LTA     pyHanko 0.38's replacement for the removed PAdES-LTA LTV mode:
            `pyhanko.sign.validation.ades.ades_lta_validation` (ETSI EN 319 102-1 5.6.3), with
            revocation data from the file only ("hard-fail" rule, fetching disabled), the
            document timestamp chain as evidence record, at the current time.

--expect-level also lists what the level needs but the file lacks in "level_problems" (a
signature timestamp from B-T on, a DSS with revocation data from B-LT on, a document
timestamp after the signature for B-LTA); it never changes "summary".

Output, one line per FILE:
  {"file", "error", "dss": {"certs", "ocsps", "crls", "vri"} | null,
   "signatures": [SIG...], "doc_timestamps": [SIG...]}
  SIG = {"field", "intact", "valid", "trusted", "coverage", "modification_level", "docmdp_ok",
         "summary", "timestamp_valid", "error", "signer",
         "status", "trust_problem", "ades_indication", "timestamp", "level_problems"}
"summary" is the executive summary `pyhanko sign validate --executive-summary` prints
(VALID iff pyHanko's bottom_line holds; INVALID, also when validation raised). "status" is
the line the CLI prints without that flag (e.g. "INTACT:TRUSTED,UNTOUCHED"). "coverage" is
SignatureCoverageLevel's name: ENTIRE_FILE for the last revision, ENTIRE_REVISION when later
incremental updates follow. "ades_indication" is set for B-LTA only (e.g. "PASSED/OK").
"trust_problem" is pyHanko's AdES sub-indication for a chain that failed (e.g.
CHAIN_CONSTRAINTS_FAILURE for a foreign root, REVOKED_NO_POE); null when the chain was not
judged, as for a signature that is not intact. For document timestamps,
which the CLI never judges, "summary" is VALID iff intact, valid and trusted,
"timestamp_valid" and "docmdp_ok" are null, and "timestamp" is the token's genTime.

Equivalent `pyhanko sign` CLI runs (pyhanko-cli 0.6.0; each run here against B-B, B-T, B-LT
and B-LTA files that pyHanko signed with a certomancer test PKI; ROOT.pem may be repeated as
--trust). The CLI has no switch that keeps revocation checking but turns fetching off (its
config file has none either), so only B-B/B-T have an exact offline equivalent:

  B-B, B-T  pyhanko sign validate --trust ROOT.pem --trust-replace --no-revocation-check \
                [--executive-summary] FILE
            Same verdicts and status line as this script for files without revocation data
            (e.g. "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED" / "VALID").
  B-LT      no exact equivalent. `sign validate` never reads the DSS: without
            --no-revocation-check it tries to fetch, and offline reports UNTRUSTED ("no
            revocation information could be found for intermediate certificate"), with or
            without --retroactive-revinfo; --validation-time turns revocation checking off.
  B-LTA     pyhanko sign adesverify --trust ROOT.pem --trust-replace [--executive-summary] FILE
            runs the same ades_lta_validation with the DSS, but also fetches OCSP/CRLs when
            the responders answer (it did here), and with them unreachable it reported
            UNTRUSTED for files this script (LOCAL_ONLY) finds valid.
adesverify's --executive-summary, like "summary" here, reflects the pyHanko status's
bottom_line, not the AdES indication (a B-LT file with no document timestamp prints VALID
while its indication is INDETERMINATE/NO_POE): check "ades_indication" for B-LTA.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from datetime import datetime
from typing import Any

try:
    from asn1crypto import crl, ocsp, x509
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import find_cms_attribute_iter
    from pyhanko.sign.validation import (
        EmbeddedPdfSignature,
        PdfSignatureStatus,
        async_validate_pdf_signature,
        async_validate_pdf_timestamp,
    )
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"validate: {e.name} is missing; run scripts/setup.sh test and use its venv's python")

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclasses.dataclass
class FileRevinfo:
    """Validation material carried by the file itself (DSS, all revisions merged)."""

    certs: list[x509.Certificate]
    ocsps: list[ocsp.OCSPResponse]
    crls: list[crl.CertificateList]
    vri: int
    present: bool

    @classmethod
    def read(cls, reader: PdfFileReader) -> FileRevinfo:
        try:
            dss = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            return cls([], [], [], 0, False)
        return cls(
            certs=list(dss.load_certs()),
            ocsps=[ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps],
            crls=[crl.CertificateList.load(ref.get_object().data) for ref in dss.crls],
            vri=len(dss.vri_entries),
            present=True,
        )

    def summary(self) -> dict[str, int] | None:
        if not self.present:
            return None
        return {
            "certs": len(self.certs),
            "ocsps": len(self.ocsps),
            "crls": len(self.crls),
            "vri": self.vri,
        }


def archival_revinfo(sig: EmbeddedPdfSignature) -> tuple[list, list]:
    """OCSP responses and CRLs in the signed adbe-revocationInfoArchival attribute."""
    ocsps: list = []
    crls: list = []
    for attr in find_cms_attribute_iter(
        sig.signer_info["signed_attrs"], "adobe_revocation_info_archival"
    ):
        ocsps.extend(attr["ocsp"] or [])
        crls.extend(attr["crl"] or [])
    return ocsps, crls


def signature_tst_time(sig: EmbeddedPdfSignature) -> datetime | None:
    """genTime of the first signature timestamp token, without validating it."""
    unsigned = sig.signer_info["unsigned_attrs"]
    if not unsigned:
        return None
    for token in find_cms_attribute_iter(unsigned, "signature_time_stamp_token"):
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native
    return None


def common_name(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    return cert.subject.native.get("common_name")


def enum_name(value: Any) -> str | None:
    return None if value is None else value.name


class Validator:
    def __init__(self, roots: list[x509.Certificate], level: str):
        self.roots = roots
        self.level = level

    # ---- validation contexts ---------------------------------------------------------

    def classic_context(
        self,
        revinfo: FileRevinfo | None,
        sig: EmbeddedPdfSignature | None,
        moment: datetime | None = None,
    ) -> ValidationContext:
        """A fresh context (they cache path-building state) with fetching disabled."""
        kwargs: dict[str, Any] = dict(trust_roots=self.roots, allow_fetching=False)
        if revinfo is None:
            kwargs["revocation_mode"] = "soft-fail"
            return ValidationContext(**kwargs)
        ocsps, crls = list(revinfo.ocsps), list(revinfo.crls)
        if sig is not None:
            extra_ocsps, extra_crls = archival_revinfo(sig)
            ocsps += extra_ocsps
            crls += extra_crls
        kwargs.update(
            other_certs=revinfo.certs, ocsps=ocsps, crls=crls, revocation_mode="hard-fail"
        )
        if moment is not None:
            # Revocation is permanent, so "good" in data issued after the timestamp also
            # holds at the timestamp: the reading pyHanko's removed PAdES-LT mode used.
            kwargs.update(moment=moment, retroactive_revinfo=True)
        return ValidationContext(**kwargs)

    def ades_spec(self) -> PdfSignatureValidationSpec:
        policy = CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=self.roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("hard-fail")),
        )
        return PdfSignatureValidationSpec(
            SignatureValidationSpec(
                cert_validation_policy=policy,
                # ades_lta_validation feeds the DSS and the archival attribute in itself.
                revinfo_gathering_policy=RevocationInfoGatheringSpec(
                    online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                    certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
                ),
                key_usage_settings=PdfSignatureStatus.default_usage_constraints(),
            )
        )

    # ---- per signature ---------------------------------------------------------------

    def base_record(self, sig: EmbeddedPdfSignature) -> dict[str, Any]:
        record: dict[str, Any] = dict(
            field=sig.field_name,
            intact=False,
            valid=False,
            trusted=False,
            coverage=None,
            modification_level=None,
            docmdp_ok=None,
            summary="INVALID",
            timestamp_valid=None,
            error=None,
            signer=None,
            status=None,
            trust_problem=None,
            ades_indication=None,
            timestamp=None,
            level_problems=[],
        )
        try:
            record["signer"] = common_name(sig.signer_cert)
            record["coverage"] = enum_name(sig.evaluate_signature_coverage())
        except Exception as e:  # noqa: BLE001 - a malformed signature is a result, not a crash
            record["error"] = f"{type(e).__name__}: {e}"
        return record

    @staticmethod
    def fill_from_status(record: dict[str, Any], status: Any) -> None:
        # Document timestamp statuses have no bottom_line (the CLI never judges them); for
        # them VALID means intact, valid and chaining to a trusted root.
        bottom_line = getattr(status, "bottom_line", None)
        if bottom_line is None:
            bottom_line = status.intact and status.valid and status.trusted
        record.update(
            intact=status.intact,
            valid=status.valid,
            trusted=status.trusted,
            coverage=enum_name(status.coverage),
            modification_level=enum_name(status.modification_level),
            signer=common_name(status.signing_cert),
            summary="VALID" if bottom_line else "INVALID",
            status=status.summary(),
            trust_problem=enum_name(status.trust_problem_indic),
        )

    async def regular(
        self, sig: EmbeddedPdfSignature, revinfo: FileRevinfo, later_doc_ts: bool
    ) -> dict[str, Any]:
        record = self.base_record(sig)
        tst_time = signature_tst_time(sig)
        if self.level != "B-B" and tst_time is None:
            record["level_problems"].append("no signature timestamp")
        if self.level in ("B-LT", "B-LTA") and not (revinfo.ocsps or revinfo.crls):
            record["level_problems"].append("no revocation data in a DSS")
        if self.level == "B-LTA" and not later_doc_ts:
            record["level_problems"].append("no document timestamp after the signature")
        try:
            if self.level == "B-LTA":
                result = await ades_lta_validation(
                    sig, self.ades_spec(), ValidationTimingInfo.now()
                )
                subindic = result.ades_subindic
                record["ades_indication"] = f"{subindic.status.name}/{subindic.name}"
                if result.failure_msg and subindic.status.name != "PASSED":
                    record["error"] = result.failure_msg
                status = result.api_status
                if status is None:
                    return record
            else:
                if self.level == "B-LT":
                    ctx = self.classic_context(revinfo, sig, moment=tst_time)
                else:
                    ctx = self.classic_context(None, None)
                status = await async_validate_pdf_signature(sig, signer_validation_context=ctx)
            self.fill_from_status(record, status)
            record["docmdp_ok"] = status.docmdp_ok
            ts = status.timestamp_validity
            if ts is not None:
                record["timestamp_valid"] = bool(ts.intact and ts.valid and ts.trusted)
                record["timestamp"] = ts.timestamp.isoformat()
        except Exception as e:  # noqa: BLE001 - SignatureValidationError and anything odder
            record["error"] = f"{type(e).__name__}: {e}"
            record["summary"] = "INVALID"
        return record

    async def doc_timestamp(
        self, sig: EmbeddedPdfSignature, revinfo: FileRevinfo
    ) -> dict[str, Any]:
        record = self.base_record(sig)
        try:
            # Offline, with the file's own data from B-LT on; at the current time, which is
            # what keeps the newest document timestamp honest.
            long_term = self.level in ("B-LT", "B-LTA")
            ctx = self.classic_context(revinfo if long_term else None, None)
            status = await async_validate_pdf_timestamp(sig, validation_context=ctx)
            self.fill_from_status(record, status)
            record["timestamp"] = status.timestamp.isoformat()
        except Exception as e:  # noqa: BLE001
            record["error"] = f"{type(e).__name__}: {e}"
            record["summary"] = "INVALID"
        return record

    # ---- per file --------------------------------------------------------------------

    async def file(self, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": path,
            "signatures": [],
            "doc_timestamps": [],
            "dss": None,
            "error": None,
        }
        try:
            with open(path, "rb") as fh:
                reader = PdfFileReader(fh)
                revinfo = FileRevinfo.read(reader)
                out["dss"] = revinfo.summary()
                doc_ts = list(reader.embedded_timestamp_signatures)
                for sig in reader.embedded_regular_signatures:
                    later = any(t.signed_revision > sig.signed_revision for t in doc_ts)
                    out["signatures"].append(await self.regular(sig, revinfo, later))
                for sig in doc_ts:
                    out["doc_timestamps"].append(await self.doc_timestamp(sig, revinfo))
        except Exception as e:  # noqa: BLE001 - unreadable file: report, go on with the next
            out["error"] = f"{type(e).__name__}: {e}"
        return out


async def run(validator: Validator, files: list[str]) -> None:
    for path in files:
        print(json.dumps(await validator.file(path)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Validate PDF signatures offline with pyHanko; one JSON line per file."
    )
    parser.add_argument(
        "--trust-root",
        action="append",
        required=True,
        metavar="ROOT.pem",
        help="trusted root certificate(s), PEM or DER; may be repeated",
    )
    parser.add_argument(
        "--expect-level",
        choices=LEVELS,
        default="B-B",
        help="PAdES baseline level to validate as (default B-B)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show pyHanko's warnings and errors on stderr"
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args()
    # pyHanko logs every failed check with a traceback; the JSON carries the verdict.
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.CRITICAL, stream=sys.stderr
    )
    try:
        roots = list(load_certs_from_pemder(args.trust_root))
    except (OSError, ValueError) as e:
        parser.error(f"cannot load --trust-root: {e}")
    if not roots:
        parser.error("no certificate in --trust-root")
    asyncio.run(run(Validator(roots, args.expect_level), args.files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
