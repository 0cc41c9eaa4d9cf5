#!/usr/bin/env bash
# Idempotent set-up shared by scripts/run.sh and scripts/test.sh.
#   scripts/setup.sh build   Debian packages needed to build (RocksDB's bindgen needs libclang)
#   scripts/setup.sh test    plus the independent checkers the tests call: softhsm2, openssl,
#                            poppler-utils, qpdf, and pkilint + pyHanko in a Python venv; and the
#                            independent PDF producers of tests/interop/make_corpus.py: Ghostscript
#                            (ps2pdf), fonts (WenQuanYi for CJK, DejaVu, URW) and ReportLab in that venv
# Installs only what is missing; prints what it does.
set -euo pipefail

mode="${1:-build}"
tools_dir="${SIGILLUM_TOOLS_DIR:-$HOME/.cache/sigillum}"

need_debs=(libclang-dev clang pkg-config g++ libssl-dev)
if [[ "$mode" == "test" ]]; then
  need_debs+=(softhsm2 openssl poppler-utils qpdf python3-venv ghostscript fonts-wqy-microhei
    fonts-dejavu-core fonts-urw-base35)
fi

missing=()
for pkg in "${need_debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then
    if ! sudo -n true 2>/dev/null; then
      echo "setup: missing Debian packages (${missing[*]}) and no passwordless sudo;" >&2
      echo "       install them as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    sudo_cmd=(sudo -n)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing; install Rust 1.95+ (rustup) first" >&2
  exit 1
fi
if [[ "$mode" == "test" ]]; then
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      if command -v rustup >/dev/null; then
        echo "setup: adding the $component component"
        rustup component add "$component"
      else
        echo "setup: cargo $component is missing and rustup is not available to add it" >&2
        exit 1
      fi
    fi
  done
fi

if [[ "$mode" == "test" ]]; then
  venv="$tools_dir/venv"
  # Pinned so that a new release of a checker cannot silently change what "passes".
  pips=(pkilint==0.13.3 pyhanko==0.38.0 pyhanko-cli==0.6.0 reportlab==5.1.0)
  stamp="$venv/.sigillum-$(printf '%s\n' "${pips[@]}" | sha256sum | cut -c1-16)"
  if [[ ! -e "$stamp" ]]; then
    echo "setup: installing ${pips[*]} into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${pips[@]}"
    touch "$stamp"
  fi
fi
