#!/usr/bin/env bash
# Checks the firmware examples' ELF files for the library routines that
# core/FIRMWARE.md keeps out of firmware. Run after building them (as
# .ci/run does); needs rustup's llvm-tools component.
set -euo pipefail
cd "$(dirname "$0")/.."
LLVM=$(ls -d "$(rustc --print sysroot)"/lib/rustlib/*/bin | head -1)
NM="$LLVM/llvm-nm"
forbidden='__aeabi_uldivmod|__aeabi_ldivmod|__udivmoddi4|__udivdi3|__umoddi3|__divdi3|__moddi3|__aeabi_llsl|__aeabi_llsr|__aeabi_lasr|__ashldi3|__lshrdi3|__ashrdi3|memmove|memchr|impl \[T\]>::contains|TwoWaySearcher|dec2flt|core::fmt::write|core::fmt::Formatter::pad'
status=0
# Where cargo put them: CARGO_TARGET_DIR when set, else each example's own.
elf_of() { echo "${CARGO_TARGET_DIR:-examples/$1/target}/thumbv7em-none-eabihf/release/$1"; }
for elf in "$(elf_of firmware-size)" "$(elf_of sensor)"; do
  if [ ! -f "$elf" ]; then
    echo "missing $elf: build the firmware examples first" >&2
    exit 1
  fi
  found=$("$NM" -C "$elf" | grep -E "$forbidden" || true)
  if [ -n "$found" ]; then
    echo "$elf pulls in what core/FIRMWARE.md forbids:" >&2
    echo "$found" >&2
    status=1
  else
    echo "$elf: none of the forbidden routines"
  fi
done
exit $status
