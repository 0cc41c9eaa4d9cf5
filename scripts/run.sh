#!/usr/bin/env bash
# The run command (README "Run"): builds and starts the appliance on its embedded defaults
# (data in ./data, listening on 127.0.0.1:8470). Extra arguments go to `sigillum serve`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/setup.sh" build
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SIGILLUM_TOOLS_DIR:-$HOME/.cache/sigillum}/target}"
cargo build --locked --release --manifest-path "$repo/Cargo.toml" --bin sigillum
exec "$CARGO_TARGET_DIR/release/sigillum" serve "$@"
