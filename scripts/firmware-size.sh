#!/usr/bin/env bash
# Flash and RAM of the firmware-shaped binary (examples/firmware-size):
# section sizes, flash by crate, and a static worst-case stack bound.
# Needs: rustup target thumbv7em-none-eabihf (stable and nightly),
# the llvm-tools component, cargo-bloat (optional, for the crate split).
set -euo pipefail
cd "$(dirname "$0")/../examples/firmware-size"
LLVM=$(ls -d "$(rustc --print sysroot)"/lib/rustlib/*/bin | head -1)
cargo build --release -q
ELF=target/thumbv7em-none-eabihf/release/firmware-size
echo "== sections (bytes)"
"$LLVM/llvm-size" -A "$ELF" | awk '$1 ~ /^\.(vector_table|text|rodata|data|bss)$/'
if command -v cargo-bloat >/dev/null; then
  echo "== .text by crate"
  cargo bloat --release --crates -n 12 2>/dev/null | tail -14 | head -12
fi
echo "== worst-case stack (nightly -Z emit-stack-sizes, same code otherwise)"
cargo +nightly rustc --release -q -- -Z emit-stack-sizes
python3 ../../scripts/stack_bound.py "$ELF" "$LLVM"
