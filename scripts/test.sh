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
# Cargo compiles the build scripts of dependencies differently for check units (clippy) and
# build units (test): host dependencies such as libc are unified differently in the two modes.
# RocksDB's C++ (most of a cold build) would therefore compile twice. The test build links the
# static library that the check unit already built instead (librocksdb-sys honours
# ROCKSDB_LIB_DIR/ROCKSDB_STATIC; same sources, same compiler and flags).
rocksdb_out="$(cargo check --locked --all-targets --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "build-script-executed" and "librocksdb-sys@" in m.get("package_id", ""):
        print(m["out_dir"])
')"
if [[ -n "$rocksdb_out" && -f "$rocksdb_out/librocksdb.a" ]]; then
  echo "== linking RocksDB from $rocksdb_out"
  export ROCKSDB_LIB_DIR="$rocksdb_out" ROCKSDB_STATIC=1
fi

echo "== cargo test --all-targets (benches run once each in test mode)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked --all-targets 2>&1 | tee "$log"
# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
