#!/usr/bin/env bash
# Flash and RAM of a firmware-shaped example (default: firmware-size; also
# sensor): section sizes, .text split into our crates / TLS / hashes, and a
# static worst-case stack bound. For the sensor, the same session is also
# built over plain TCP (`--features plain-tcp`): with no TLS in the image,
# that build measures what our crates take on their own, free of TLS code
# inlined into ours and of TLS state held in our frames.
# Needs: rustup target thumbv7em-none-eabihf (stable and nightly), the
# llvm-tools component, cargo-bloat (for the split).
#
#   scripts/firmware-size.sh [EXAMPLE [CARGO ARGS...]]
# With cargo arguments (`sensor --features qemu`), one build with them is
# measured; CARGO_TARGET_DIR is honoured.
set -euo pipefail
example=${1:-firmware-size}
shift || true
cd "$(dirname "$0")/../examples/$example"
LLVM=$(ls -d "$(rustc --print sysroot)"/lib/rustlib/*/bin | head -1)
ELF=${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/$example
TLS_CRATES='(sensor::flow::open_tls|embedded_tls|aead|aes|aes_gcm|base16ct|cipher|const_oid|crypto_bigint|ctr|der|ecdsa|elliptic_curve|ff|ghash|group|hkdf|hmac|p256|polyval|primeorder|rfc6979|sec1|signature|universal_hash|sensor::open_tls)::'

measure() {
  cargo build --release -q "$@"
  echo "== sections (bytes)"
  "$LLVM/llvm-size" -A "$ELF" | awk '$1 ~ /^\.(vector_table|text|rodata|data|bss)$/'
  if command -v cargo-bloat >/dev/null; then
    echo "== .text by group (cargo-bloat, by function, approximate)"
    cargo bloat --release "$@" -n 0 --message-format json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
groups = {"ours": 0, "tls": 0, "hashes": 0, "runtime": 0, "board": 0}
ours = {"lastline_core", "lastline_embedded", "firmware_size", "sensor", "heapless", "hex", "httparse", "base64"}
# The QEMU board: semihosting and peripheral crates, not ours.
board = {"cortex_m", "cortex_m_semihosting", "critical_section"}
hashes = {"md5", "sha1", "sha2", "digest", "block_buffer", "hybrid_array", "crypto_common"}
runtime = {"std", "core", "compiler_builtins", "cortex_m_rt", "panic_halt", "[Unknown]"}
for f in d["functions"]:
    n, s = (f.get("crate") or "[Unknown]").rstrip("?"), f["size"]
    # The sensor opens its TLS connection in a function of its own, in
    # which the TLS stack is inlined: that is TLS code.
    if f["name"].startswith(("sensor::open_tls", "sensor::flow::open_tls")):
        g = "tls"
    elif f["name"].startswith(("core::", "<core::")):
        # Generic core code (a copy loop, say) that cargo-bloat files
        # under whichever crate instantiated it first.
        g = "runtime"
    else:
        g = "ours" if n in ours else "hashes" if n in hashes else "runtime" if n in runtime else "board" if n in board else "tls"
    groups[g] += s
for g, s in groups.items():
    print(f"{g:8} {s:>7} bytes  ({s / 1024:.1f} KiB)")
print("(sha2 serves both the sample hashes and TLS; it is counted under hashes)")
'
  fi
  echo "== worst-case stack (nightly -Z emit-stack-sizes, same code otherwise)"
  cargo +nightly rustc --release -q "$@" -- -Z emit-stack-sizes
  python3 ../../scripts/stack_bound.py "$ELF" "$LLVM" | tail -1
}

if [ $# -gt 0 ]; then
  measure "$@"
  echo "== the same with the TLS stack's own frames counted as 0"
  python3 ../../scripts/stack_bound.py "$ELF" "$LLVM" "$TLS_CRATES" | tail -1
  exit 0
fi
measure
if [ "$example" = sensor ]; then
  echo "== the same with the TLS stack's own frames counted as 0"
  python3 ../../scripts/stack_bound.py "$ELF" "$LLVM" "$TLS_CRATES" | tail -1
  echo
  echo "#### the same session over plain TCP: our crates alone"
  measure --features plain-tcp
  echo "(.rodata includes the captured files, 4096 + 65536 bytes)"
fi
