#!/usr/bin/env python3
"""Sign PDFs with pyHanko under a throwaway test PKI: foreign signatures for the verifier.

Usage: foreign_sign.py OUT_DIR --input UNSIGNED.pdf [--input-form FORM.pdf]

The verification engine must judge signatures that sigillum did not make. This script makes
them with tools that share no code with sigillum: a PKI generated here with the
`cryptography` package, and the pyHanko library (not its CLI) as the signer, with pyHanko's
test TSA (`DummyTimeStamper`, which signs with the TSA key made here) and nothing fetched
from the network.

The PKI (written to OUT_DIR as PEM; the CRLs as DER and PEM):

  foreign_root.pem          "Foreign Test Root CA", RSA 2048, self-signed, valid now -5 y .. +20 y
  foreign_intermediate.pem  "Foreign Test Issuing CA", ECDSA P-256, pathlen 0, now -3 y .. +10 y
  foreign_signer.pem        "Foreign Signer One", ECDSA P-256, keyUsage digitalSignature +
                            nonRepudiation (critical), now -1 y .. +3 y
  foreign_signer2.pem       "Foreign Signer Two", RSA 2048, same profile (second signer)
  foreign_tsa.pem           "Foreign Test TSA", RSA 2048 (DummyTimeStamper is RSA-only),
                            extKeyUsage timeStamping (critical)
  foreign_chain.pem         intermediate + root (what a verifier needs besides the leaf)
  foreign_root.crl(.pem)          CRL by the root (covers the intermediate)
  foreign_intermediate.crl(.pem)  CRL by the intermediate (covers signers and TSA)
Every non-root certificate names its issuer's CRL in a CRL distribution point under the
reserved .invalid domain, so "hard-fail" revocation checking needs the CRLs, and offline they
can only come from the file (DSS) or the verifier's own configuration. Both CRLs are current
(thisUpdate 1 h ago, nextUpdate in 30 days) and revoke one unrelated serial number each, so
they are not empty.

Outputs (all PAdES, SubFilter ETSI.CAdES.detached, SHA-256):

  foreign_B-B.pdf             --input + one approval signature (invisible field Signature1)
  foreign_B-T.pdf             the same with a signature timestamp
  foreign_B-LT.pdf            B-T + DSS (certs and both CRLs) in a further revision
  foreign_B-LTA.pdf           B-LT + a document timestamp (use_pades_lta=True)
  foreign_two_signatures.pdf  --input + two approval signatures, B-T each: Signature1 by
                              Signer One (visible, lower left of page 1), then Signature2
                              by Signer Two (invisible) in the next revision
  foreign_certified_p2.pdf    certification signature, DocMDP P=2 (FILL_FORMS), B-T
  foreign_certified_p3.pdf    certification signature, DocMDP P=3 (ANNOTATE), B-T
The certification signatures fill the first empty signature field of --input-form (e.g. the
corpus's reportlab_acroform.pdf and its field Sig1); without --input-form they go into a new
invisible field CertSig on --input.

Every output is checked before the script succeeds, with tests/interop/validate.py's logic
against foreign_root.pem only: each signature and document timestamp must be intact, valid
and trusted with no "level_problems" at the level the file claims (B-LT and B-LTA with
"hard-fail" revocation checking from the file's own DSS), and a certified file must carry
the DocMDP level it claims. OUT_DIR/manifest.json lists the outputs:

    [{"file", "level" (PAdES-BASELINE-B|T|LT|LTA), "signatures" (regular signatures, not
      counting document timestamps), "certified" (null|"P2"|"P3"), "field" (the
      certification field, or the last signature's), "note"}]

Keys and timestamps are new on every run, so the outputs differ from run to run (the private
keys are not written anywhere). Exit status: 0 on success, 1 when signing or a check fails
(with a message), 2 on usage errors. A missing Python package is an error with an install
hint, never a silent skip.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

SETUP_HINT = "run scripts/setup.sh test and use its venv's python"

try:
    from asn1crypto import crl as asn1_crl
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"foreign_sign: {e.name} is missing; {SETUP_HINT}")

sys.dont_write_bytecode = True  # no __pycache__ next to the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate  # noqa: E402  (tests/interop/validate.py: the same checks the Rust tests use)

CRL_BASE = "http://foreign-pki.invalid"
LEVEL_NAMES = {
    "B-B": "PAdES-BASELINE-B",
    "B-T": "PAdES-BASELINE-T",
    "B-LT": "PAdES-BASELINE-LT",
    "B-LTA": "PAdES-BASELINE-LTA",
}


class SignError(Exception):
    pass


# ---- the PKI -----------------------------------------------------------------------------


@dataclass
class Party:
    name: str
    key: object
    cert: x509.Certificate

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Foreign Test PKI (sigillum fixtures)"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    cn: str,
    key,
    issuer: Party | None,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool,
    path_length: int | None = None,
    eku_tsa: bool = False,
    crl_of: str | None = None,
) -> Party:
    subject = _name(cn)
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    if ca:
        usage = dict(key_cert_sign=True, crl_sign=True, digital_signature=False,
                     content_commitment=False)  # fmt: skip
    else:
        usage = dict(key_cert_sign=False, crl_sign=False, digital_signature=True,
                     content_commitment=not eku_tsa)  # fmt: skip
    builder = builder.add_extension(
        x509.KeyUsage(key_encipherment=False, data_encipherment=False, key_agreement=False,
                      encipher_only=False, decipher_only=False, **usage),
        critical=True,
    )  # fmt: skip
    if eku_tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    if crl_of is not None:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"{CRL_BASE}/{crl_of}.crl")],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    cert = builder.sign(signing_key, hashes.SHA256())
    return Party(cn, key, cert)


def _crl(issuer: Party, now: datetime) -> x509.CertificateRevocationList:
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(x509.random_serial_number())
        .revocation_date(now - timedelta(days=10))
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        .build()
    )
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=30))
        .add_revoked_certificate(revoked)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
        .sign(issuer.key, hashes.SHA256())
    )


@dataclass
class Pki:
    root: Party
    inter: Party
    signer: Party
    signer2: Party
    tsa: Party
    root_crl: x509.CertificateRevocationList
    inter_crl: x509.CertificateRevocationList

    @classmethod
    def generate(cls) -> Pki:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        year = timedelta(days=365)

        def rsa_key():
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)

        def p256_key():
            return ec.generate_private_key(ec.SECP256R1())

        root = _issue("Foreign Test Root CA", rsa_key(), None, now - 5 * year, now + 20 * year,
                      ca=True, path_length=1)  # fmt: skip
        inter = _issue("Foreign Test Issuing CA", p256_key(), root, now - 3 * year,
                       now + 10 * year, ca=True, path_length=0, crl_of="root")  # fmt: skip
        ee = dict(not_before=now - year, not_after=now + 3 * year, ca=False, crl_of="intermediate")
        signer = _issue("Foreign Signer One", p256_key(), inter, **ee)
        signer2 = _issue("Foreign Signer Two", rsa_key(), inter, **ee)
        tsa = _issue("Foreign Test TSA", rsa_key(), inter, eku_tsa=True, **ee)
        return cls(root, inter, signer, signer2, tsa, _crl(root, now), _crl(inter, now))

    def asn1_crls(self) -> list[asn1_crl.CertificateList]:
        return [
            asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER))
            for c in (self.root_crl, self.inter_crl)
        ]

    def write(self, out_dir: Path) -> None:
        for stem, party in (("root", self.root), ("intermediate", self.inter),
                            ("signer", self.signer), ("signer2", self.signer2),
                            ("tsa", self.tsa)):  # fmt: skip
            (out_dir / f"foreign_{stem}.pem").write_bytes(party.pem())
        (out_dir / "foreign_chain.pem").write_bytes(self.inter.pem() + self.root.pem())
        for stem, c in (("root", self.root_crl), ("intermediate", self.inter_crl)):
            (out_dir / f"foreign_{stem}.crl").write_bytes(
                c.public_bytes(serialization.Encoding.DER)
            )
            (out_dir / f"foreign_{stem}.crl.pem").write_bytes(
                c.public_bytes(serialization.Encoding.PEM)
            )

    def signer_for(self, party: Party) -> signers.SimpleSigner:
        registry = SimpleCertificateStore.from_certs(
            [self.inter.asn1_cert, self.root.asn1_cert]
        )
        return signers.SimpleSigner(
            signing_cert=party.asn1_cert, signing_key=party.asn1_key, cert_registry=registry
        )

    def timestamper(self) -> DummyTimeStamper:
        return DummyTimeStamper(
            tsa_cert=self.tsa.asn1_cert,
            tsa_key=self.tsa.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs([self.inter.asn1_cert]),
        )

    def validation_context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=[self.root.asn1_cert],
            other_certs=[self.inter.asn1_cert],
            crls=self.asn1_crls(),
            allow_fetching=False,
            revocation_mode="hard-fail",
        )


# ---- signing -----------------------------------------------------------------------------


@dataclass
class Output:
    file: str
    level: str
    signatures: int
    certified: str | None
    field: str
    note: str


def sign(
    pki: Pki,
    src: bytes,
    *,
    field: str,
    party: Party,
    level: str,
    reason: str,
    certify: MDPPerm | None = None,
    existing_field: bool = False,
    box: tuple[int, int, int, int] | None = None,
) -> bytes:
    long_term = level in ("B-LT", "B-LTA")
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location="Foreign test lab",
        certify=certify is not None,
        docmdp_permissions=certify if certify is not None else MDPPerm.FILL_FORMS,
        signer_key_usage={"non_repudiation", "digital_signature"},
        embed_validation_info=long_term,
        validation_context=pki.validation_context() if long_term else None,
        use_pades_lta=level == "B-LTA",
        timestamp_field_name="DocTimeStamp1" if level == "B-LTA" else None,
    )
    new_field = None
    if not existing_field:
        new_field = SigFieldSpec(sig_field_name=field, on_page=0, box=box)
    pdf_signer = signers.PdfSigner(
        meta,
        pki.signer_for(party),
        timestamper=None if level == "B-B" else pki.timestamper(),
        new_field_spec=new_field,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(src), strict=False)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, existing_fields_only=existing_field, output=out)
    return out.getvalue()


def first_empty_sig_field(data: bytes) -> str | None:
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    for name, value, _ in fields.enumerate_sig_fields(reader, filled_status=False):
        return name
    return None


# ---- checks ------------------------------------------------------------------------------


async def check(pki: Pki, path: Path, out: Output) -> None:
    short = out.level.replace("PAdES-BASELINE-", "B-")
    validator = validate.Validator([pki.root.asn1_cert], short)
    result = await validator.file(str(path))
    problems: list[str] = []
    if result["error"]:
        problems.append(f"unreadable: {result['error']}")
    sigs = result["signatures"]
    if len(sigs) != out.signatures:
        problems.append(f"{len(sigs)} signatures, expected {out.signatures}")
    for sig in sigs + result["doc_timestamps"]:
        where = sig["field"]
        for key in ("intact", "valid", "trusted"):
            if not sig[key]:
                problems.append(f"{where}: not {key} ({sig['error'] or sig['status']})")
        if sig["summary"] != "VALID":
            problems.append(f"{where}: summary {sig['summary']} ({sig['status']})")
        if sig["level_problems"]:
            problems.append(f"{where}: {', '.join(sig['level_problems'])}")
        if sig["docmdp_ok"] is False:
            problems.append(f"{where}: DocMDP violated")
        if sig["timestamp_valid"] is False:
            problems.append(f"{where}: signature timestamp not valid")
        if short == "B-LTA" and sig in sigs and sig["ades_indication"] != "PASSED/OK":
            problems.append(f"{where}: AdES indication {sig['ades_indication']}")
    if short == "B-LTA" and not result["doc_timestamps"]:
        problems.append("no document timestamp")
    if short in ("B-LT", "B-LTA") and not (result["dss"] or {}).get("crls"):
        problems.append("no CRLs in the DSS")
    with path.open("rb") as fh:
        reader = PdfFileReader(fh)
        first = next(iter(reader.embedded_regular_signatures), None)
        level = first.docmdp_level if first is not None else None
        got = {MDPPerm.FILL_FORMS: "P2", MDPPerm.ANNOTATE: "P3",
               MDPPerm.NO_CHANGES: "P1"}.get(level)  # fmt: skip
    if got != out.certified:
        problems.append(f"DocMDP level {got}, expected {out.certified}")
    if problems:
        raise SignError(f"{out.file} does not validate in pyHanko: " + "; ".join(problems))


# ---- main --------------------------------------------------------------------------------


def build(out_dir: Path, unsigned: bytes, form: bytes | None) -> list[Output]:
    pki = Pki.generate()
    out_dir.mkdir(parents=True, exist_ok=True)
    pki.write(out_dir)
    outputs: list[tuple[Output, bytes]] = []

    for short in ("B-B", "B-T", "B-LT", "B-LTA"):
        data = sign(pki, unsigned, field="Signature1", party=pki.signer, level=short,
                    reason=f"foreign {short} approval")  # fmt: skip
        extra = {
            "B-B": "no timestamp",
            "B-T": "signature timestamp by the foreign test TSA",
            "B-LT": "signature timestamp; DSS with certificates and both CRLs in a second "
                    "revision",
            "B-LTA": "B-LT plus a document timestamp (field DocTimeStamp1) in a further "
                     "revision",
        }[short]  # fmt: skip
        note = f"--input + approval signature by Foreign Signer One (P-256), invisible field " \
               f"Signature1; {extra}"  # fmt: skip
        outputs.append((Output(f"foreign_{short}.pdf", LEVEL_NAMES[short], 1, None,
                               "Signature1", note), data))  # fmt: skip

    first = sign(pki, unsigned, field="Signature1", party=pki.signer, level="B-T",
                 reason="first approval", box=(40, 40, 240, 100))  # fmt: skip
    both = sign(pki, first, field="Signature2", party=pki.signer2, level="B-T",
                reason="second approval")  # fmt: skip
    outputs.append((Output(
        "foreign_two_signatures.pdf", LEVEL_NAMES["B-T"], 2, None, "Signature2",
        "--input + Signature1 (visible, 40,40-240,100 on page 1) by Foreign Signer One "
        "(P-256), then Signature2 (invisible) by Foreign Signer Two (RSA 2048) in the next "
        "revision; both B-T"), both))  # fmt: skip

    if form is not None:
        field = first_empty_sig_field(form)
        if field is None:
            raise SignError("--input-form has no empty signature field")
        base, existing, where = form, True, f"the empty field {field} of --input-form"
    else:
        field, base, existing = "CertSig", unsigned, False
        where = "a new invisible field CertSig on --input"
    for perm, tag, what in ((MDPPerm.FILL_FORMS, "P2", "form filling and signing"),
                            (MDPPerm.ANNOTATE, "P3", "form filling, signing and "
                                                     "annotating")):  # fmt: skip
        data = sign(pki, base, field=field, party=pki.signer, level="B-T",
                    reason=f"certified {tag}", certify=perm, existing_field=existing)  # fmt: skip
        outputs.append((Output(
            f"foreign_certified_{tag.lower()}.pdf", LEVEL_NAMES["B-T"], 1, tag, field,
            f"certification signature (DocMDP {tag}: {what} allowed) by Foreign Signer One "
            f"in {where}; B-T"), data))  # fmt: skip

    async def check_all() -> None:
        for out, data in outputs:
            path = out_dir / out.file
            path.write_bytes(data)
            await check(pki, path, out)

    asyncio.run(check_all())
    return [out for out, _ in outputs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory for the PKI, PDFs, manifest.json")
    parser.add_argument("--input", type=Path, required=True, metavar="UNSIGNED.pdf",
                        help="unsigned PDF to sign (e.g. the corpus's reportlab_simple.pdf)")
    parser.add_argument("--input-form", type=Path, metavar="FORM.pdf",
                        help="PDF with an empty signature field for the certification "
                             "signatures (e.g. the corpus's reportlab_acroform.pdf)")
    args = parser.parse_args()  # fmt: skip
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    start = time.monotonic()
    try:
        unsigned = args.input.read_bytes()
        form = args.input_form.read_bytes() if args.input_form else None
    except OSError as e:
        parser.error(str(e))
    try:
        outputs = build(args.out_dir, unsigned, form)
    except SignError as e:
        print(f"foreign_sign: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - pyHanko's errors: report them, not a traceback
        print(f"foreign_sign: signing failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    manifest = args.out_dir / "manifest.json"
    manifest.write_text(json.dumps([asdict(o) for o in outputs], indent=2) + "\n")
    print(
        f"foreign_sign: {len(outputs)} files in {args.out_dir} ({time.monotonic() - start:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
