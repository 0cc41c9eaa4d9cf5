#!/usr/bin/env python3
"""Times pyHanko signing PDFs in-process (PAdES B-B, invisible, ECDSA P-256 soft key), the peer
figure for benches/compare_pyhanko.sh. Prints one line per file: `<name> <mean_ms> <runs>`.

Usage: pyhanko_sign.py KEY.pem CERT.pem FILE...
"""
import io
import sys
import time

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def main() -> int:
    key, cert, *files = sys.argv[1:]
    signer = signers.SimpleSigner.load(key, cert)
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256")
    for path in files:
        data = open(path, "rb").read()
        runs, elapsed = 0, 0.0
        # At least 5 runs and 2 s, like criterion's sampling, after one warm-up.
        for warm in (True, False):
            while warm or runs < 5 or elapsed < 2.0:
                started = time.perf_counter()
                writer = IncrementalPdfFileWriter(io.BytesIO(data))
                out = io.BytesIO()
                signers.sign_pdf(
                    writer,
                    meta,
                    signer=signer,
                    new_field_spec=fields.SigFieldSpec("Signature1"),
                    output=out,
                )
                if warm:
                    break
                elapsed += time.perf_counter() - started
                runs += 1
        print(f"{path.rsplit('/', 1)[-1].removesuffix('.pdf')} {elapsed / runs * 1000:.2f} {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
