#!/usr/bin/env bash
# The test command (README "Test"): installs what the tests use, then runs formatting, lints and
# every test, unit and integration, against the real independent tools.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh test

tools_dir="${SIGILLUM_TOOLS_DIR:-$HOME/.cache/sigillum}"
export PATH="$tools_dir/venv/bin:$PATH"
# One shared target dir outside the clone: RocksDB's C++ build (most of a cold build) is reused
# by later runs on the same machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools_dir/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test --all-targets (benches run once each in test mode)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked --all-targets 2>&1 | tee "$log"
# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
