#!/usr/bin/env bash
# Verifies the same signed PDFs with our engine (criterion bench `verify_pdf`, in-process),
# pyHanko (in-process, difference analysis on) and pdfsig in one run, and prints the ratios.
# Run from the repository root after `scripts/setup.sh test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools_dir="${SIGILLUM_TOOLS_DIR:-$HOME/.cache/sigillum}"
export PATH="$tools_dir/venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools_dir/target}"
command -v pdfsig >/dev/null || { echo "pdfsig missing: apt-get install poppler-utils" >&2; exit 1; }
python3 -c 'import pyhanko' 2>/dev/null || { echo "pyHanko missing: run scripts/setup.sh test" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== our engine (criterion), writing the signed files to $work/pdfs"
SIGILLUM_BENCH_PDF_DIR="$work/pdfs" cargo bench --bench verify_pdf -- --noplot >"$work/engine.txt" 2>&1 \
  || { cat "$work/engine.txt"; exit 1; }
echo "== pyHanko (in-process) and pdfsig on the same files"
python3 benches/pyhanko_validate.py "$work/pdfs/root.pem" \
  "$work"/pdfs/signed_{1MB,5MB,20MB,six_signatures}.pdf >"$work/peers.txt"

python3 - "$CARGO_TARGET_DIR/criterion/verify" "$work/peers.txt" <<'PY'
import json, sys
crit, peers = sys.argv[1:]
def est(kind, label):
    with open(f"{crit}/{kind}/{label}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1e6
print(f"{'file':>15} {'sigs':>4} {'pyHanko ms':>11} {'pdfsig ms':>10} {'engine ms':>10} {'vs pyHanko':>11} {'vs pdfsig':>10} {'sha256 ms':>10} {'engine/sha':>10}")
for line in open(peers):
    label, py, ps, n = line.split()
    e, sha = est("engine", label), est("sha256", label)
    print(f"{label:>15} {n:>4} {float(py):11.2f} {float(ps):10.2f} {e:10.3f} {float(py)/e:10.1f}x {float(ps)/e:9.1f}x {sha:10.3f} {e/sha:9.2f}x")
PY
