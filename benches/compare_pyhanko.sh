#!/usr/bin/env bash
# Signs the same generated PDFs with pyHanko (in-process, B-B, ECDSA P-256) and with our engine
# (criterion bench `pades_sign`) in one run, then our end-to-end HTTP path (bench `sign_http`),
# and prints the ratios. Run from the repository root after `scripts/setup.sh test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools_dir="${SIGILLUM_TOOLS_DIR:-$HOME/.cache/sigillum}"
export PATH="$tools_dir/venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools_dir/target}"
command -v pyhanko >/dev/null || { echo "pyHanko missing: run scripts/setup.sh test" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== our engine (criterion), writing the generated files to $work/pdfs"
SIGILLUM_BENCH_PDF_DIR="$work/pdfs" cargo bench --bench pades_sign -- --noplot >"$work/engine.txt" 2>&1 \
  || { cat "$work/engine.txt"; exit 1; }

echo "== pyHanko in-process on the same files"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
openssl req -new -x509 -key "$work/key.pem" -subj "/CN=pyHanko bench" -days 2 -out "$work/cert.pem" \
  -addext keyUsage=critical,digitalSignature,nonRepudiation 2>/dev/null
python3 benches/pyhanko_sign.py "$work/key.pem" "$work/cert.pem" \
  "$work"/pdfs/{100KB,1MB,5MB,20MB,32MB}.pdf >"$work/pyhanko.txt"

echo "== end to end through POST /v1/sign"
cargo bench --bench sign_http >"$work/http.txt" 2>&1 || { cat "$work/http.txt"; exit 1; }
grep '^sign_http' "$work/http.txt"

python3 - "$CARGO_TARGET_DIR/criterion/pades_sign_bb" "$work/pyhanko.txt" "$work/http.txt" <<'PY'
import json, re, sys
crit, pyh, http = sys.argv[1:]
def est(kind, size):
    with open(f"{crit}/{kind}/{size}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1e6
py = {l.split()[0]: float(l.split()[1]) for l in open(pyh) if l.strip()}
seq = {m.group(1): float(m.group(2)) for m in re.finditer(r"sequential size=(\S+) runs=\d+ mean_ms=([\d.]+)", open(http).read())}
print(f"{'size':>6} {'pyHanko ms':>11} {'engine ms':>10} {'ratio':>7} {'visible ms':>11} {'sha+write ms':>13} {'engine/floor':>13} {'HTTP ms':>8} {'HTTP ratio':>10}")
for size in ["100KB", "1MB", "5MB", "20MB", "32MB"]:
    e, v, floor = est("invisible", size), est("visible_text", size), est("sha256_plus_write", size)
    h = seq.get(size)
    hs = f"{h:8.2f} {py[size] / h:9.1f}x" if h else f"{'-':>8} {'-':>10}"
    print(f"{size:>6} {py[size]:11.2f} {e:10.3f} {py[size] / e:6.1f}x {v:11.3f} {floor:13.3f} {e / floor:12.2f}x {hs}")
PY
