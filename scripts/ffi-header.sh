#!/usr/bin/env bash
# Regenerates transports/ffi/include/lastline.h with the pinned cbindgen;
# with --check, fails when the committed header differs from what the
# sources generate (CI runs it so).
set -euo pipefail
cd "$(dirname "$0")/../transports/ffi"
PINNED="cbindgen 0.24.3"
if ! command -v cbindgen >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cbindgen >/dev/null
fi
if [ "$(cbindgen --version)" != "$PINNED" ]; then
    echo "need $PINNED (Debian bookworm's), found $(cbindgen --version)" >&2
    exit 1
fi
out=include/lastline.h
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
fi
# cbindgen also reads the private types and warns it cannot name them in C
# (they never cross the ABI): its warnings are not shown.
cbindgen --quiet --config cbindgen.toml --crate lastline-ffi --output "$out" .
if [ "${1:-}" = "--check" ]; then
    if ! diff -u include/lastline.h "$out"; then
        echo "include/lastline.h is stale: run scripts/ffi-header.sh and commit it" >&2
        exit 1
    fi
    echo "include/lastline.h matches the sources"
fi
