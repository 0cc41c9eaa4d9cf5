#!/usr/bin/env bash
# Creates (or reuses) a SoftHSM2 token for sigillum development and tests.
#
#   hsm/init-token.sh DIR [LABEL]
#
# Idempotent. In DIR it creates, keeping whatever already exists:
#   DIR/tokens/          SoftHSM token directory
#   DIR/softhsm2.conf    from hsm/softhsm2.conf.in, pointing at DIR/tokens
#   DIR/user.pin         random user PIN, mode 0600 (the file sigillum's keys.pkcs11.pin_file names)
#   DIR/so.pin           random security-officer PIN, mode 0600
# and initialises the token LABEL (default "sigillum") unless `softhsm2-util --show-slots`
# already lists it. On success it prints the line to evaluate:
#   export SOFTHSM2_CONF=DIR/softhsm2.conf
#
# softhsm2-util takes both PINs as command-line arguments here, so during this one call they are
# visible to other local users through the process list. That is acceptable for a throw-away test
# token only; sigillum itself reads its PIN from the pin file and never from argv or environment.

set -euo pipefail

usage() {
    echo "usage: $0 DIR [LABEL]" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
dir=$1
label=${2:-sigillum}
[[ -n $dir && -n $label ]] || usage
if (( ${#label} > 32 )); then
    echo "error: token label '$label' is longer than 32 characters (PKCS#11 limit)" >&2
    exit 2
fi

if ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "error: softhsm2-util not found; install SoftHSM2 first: apt-get install softhsm2" >&2
    exit 1
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=$script_dir/softhsm2.conf.in

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf

# Writes FILE from the template only if it is missing, so a running setup is never changed under
# its feet. '|' cannot appear in the substituted path without breaking sed, hence the check.
if [[ ! -e $conf ]]; then
    if [[ $dir == *'|'* ]]; then
        echo "error: directory path must not contain '|': $dir" >&2
        exit 2
    fi
    sed "s|@TOKENDIR@|$dir/tokens|" "$template" >"$conf.tmp"
    mv "$conf.tmp" "$conf"
fi

# 32 hex characters from the kernel CSPRNG; kept if already present.
make_pin() {
    local file=$1
    if [[ ! -s $file ]]; then
        od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$file.tmp"
        chmod 600 "$file.tmp"
        mv "$file.tmp" "$file"
    fi
    chmod 600 "$file"
}
make_pin "$dir/user.pin"
make_pin "$dir/so.pin"

export SOFTHSM2_CONF=$conf

# `--show-slots` pads labels to 32 characters; compare the trimmed value exactly.
token_listed() {
    softhsm2-util --show-slots 2>/dev/null |
        sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' |
        sed 's/[[:space:]]*$//' |
        grep -Fxq -- "$label"
}

if ! token_listed; then
    softhsm2-util --init-token --free --label "$label" \
        --so-pin "$(cat "$dir/so.pin")" --pin "$(cat "$dir/user.pin")" >&2
    if ! token_listed; then
        echo "error: softhsm2-util did not create token '$label'" >&2
        exit 1
    fi
fi

echo "export SOFTHSM2_CONF=$conf"
