#!/usr/bin/env python3
"""Time pyHanko's validation in-process, difference analysis on (its default), and pdfsig.

Usage: pyhanko_validate.py ROOT.pem FILE...

For each FILE prints one line: `<stem> <pyhanko_ms> <pdfsig_ms> <signatures>`, the mean wall
time of validating every signature of the file with pyHanko's `validate_pdf_signature` (the
call `pyhanko sign validate` makes, trusting ROOT.pem only, no revocation fetching) and of one
`pdfsig -nocert FILE` run (process start included; that is how pdfsig is used). pyHanko's
result is checked (every signature intact and valid) before it is timed.
"""
import os
import statistics
import subprocess
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def pyhanko_once(path, root):
    vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    with open(path, "rb") as f:
        r = PdfFileReader(f)
        out = []
        for sig in r.embedded_signatures:
            st = validate_pdf_signature(sig, vc)
            out.append(st)
        return out


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.mean(samples)


def main():
    root = load_cert_from_pemder(sys.argv[1])
    for path in sys.argv[2:]:
        stem = os.path.splitext(os.path.basename(path))[0].removeprefix("signed_")
        statuses = pyhanko_once(path, root)
        assert statuses and all(s.intact and s.valid for s in statuses), (path, statuses)
        runs = 3 if os.path.getsize(path) > (8 << 20) else 10
        py_ms = timed(lambda: pyhanko_once(path, root), runs)
        sig_ms = timed(
            lambda: subprocess.run(["pdfsig", "-nocert", path], capture_output=True, check=False),
            runs,
        )
        print(f"{stem} {py_ms:.2f} {sig_ms:.2f} {len(statuses)}", flush=True)


if __name__ == "__main__":
    main()
