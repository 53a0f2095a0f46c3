#!/usr/bin/env bash
# examples/c-firmware: a bare-metal C sensor for QEMU's mps2-an386,
# linked with lastline-ffi's staticlib built for thumbv7em-none-eabihf
# (no_std, no allocator), talking to the emulator through the UART relay
# (plain TCP; the Rust sensor proves TLS). Built twice, with and without
# -fshort-enums (the ABI has no enums, so both work), each run and
# checked: both files submitted hash-first (uploaded on 101), verdicts
# from the cursor (EICAR malicious, the other benign); the short-enum
# image's emulator answers 107 twice first. Then: no malloc or free
# anywhere, and the image's flash and RAM.
#
#   scripts/c-firmware.sh [--sizes]   (--sizes: build and print sizes only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/c-firmware
mkdir -p "$out"
need=()
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

echo "== the staticlib (thumbv7em-none-eabihf, no_std: --no-default-features; size-optimised as the Rust firmware)"
CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    RUSTFLAGS='--cfg sha2_backend="soft" --cfg sha2_backend_soft="compact"' \
    CARGO_TARGET_DIR="$out/rust" \
    cargo build -q -p lastline-ffi --target thumbv7em-none-eabihf --release --no-default-features 2>&1 |
    grep -v "dropping unsupported crate type" || true
lib=$out/rust/thumbv7em-none-eabihf/release/liblastline_ffi.a
if arm-none-eabi-nm -u "$lib" 2>/dev/null | grep -qwE 'malloc|free|calloc|realloc|__rust_alloc|__rust_dealloc'; then
    echo "the staticlib refers to an allocator:" >&2
    arm-none-eabi-nm -u "$lib" | grep -wE 'malloc|free|calloc|realloc|__rust_alloc|__rust_dealloc' >&2
    exit 1
fi

cflags=(-std=c99 -Wall -Wextra -Wpedantic -Werror -Os -g -mcpu=cortex-m4 -mthumb -mfloat-abi=hard
    -mfpu=fpv4-sp-d16 -ffunction-sections -fdata-sections -Itransports/ffi/include)
src=examples/c-firmware
build() {
    local name=$1
    shift
    arm-none-eabi-gcc "${cflags[@]}" "$@" "$src/main.c" "$src/board.c" "$src/net.c" -T "$src/link.ld" \
        -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,--no-warn-execstack "$lib" \
        -o "$out/$name.elf"
    if arm-none-eabi-nm "$out/$name.elf" | grep -qwE 'malloc|free|_sbrk|_malloc_r|_free_r'; then
        echo "$name: the image links an allocator" >&2
        exit 1
    fi
    echo "-- $name: no malloc, free or _sbrk in the image; sizes (text = flash; data + bss = static RAM):"
    arm-none-eabi-size "$out/$name.elf" | sed 's/^/   /'
}
build c-firmware
# -fshort-enums: the library's objects say 32-bit enums, ours variable;
# no enum crosses the ABI (kinds are uint32_t), so the linker's note is off.
build c-firmware-short-enums -fshort-enums -Wl,--no-enum-size-warning
[ "${1:-}" = "--sizes" ] && exit 0

cargo build --release -q -p lastline-emulator
emulator=${CARGO_TARGET_DIR:-$root/target}/release/lastline-emulator
. scripts/loopback.sh
failures=0
run() {
    local name=$1
    shift
    local eport qport emu qemu relay status=0
    eport=$(free_port)
    qport=$(free_port)
    "$emulator" --listen "127.0.0.1:$eport" --key firmware-key --token firmware-token "$@" \
        >"$out/$name.emulator.log" 2>&1 &
    emu=$!
    wait_listening "$eport"
    timeout 300 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -chardev "socket,id=uart,host=127.0.0.1,port=$qport,server=on,wait=on" \
        -serial chardev:uart -kernel "$out/$name.elf" >"$out/$name.out" 2>&1 &
    qemu=$!
    python3 scripts/uart-relay.py --uart "127.0.0.1:$qport" --upstream "127.0.0.1:$eport" \
        2>"$out/$name.relay.log" &
    relay=$!
    wait "$qemu" || status=$?
    kill "$relay" "$emu" 2>/dev/null || true
    wait "$relay" "$emu" 2>/dev/null || true
    echo "== $name in QEMU (exit status $status)"
    sed 's/^/   /' "$out/$name.out"
    [ "$status" = 0 ] || failures=$((failures + 1))
    for pattern in "uploaded, task [0-9a-f]{32}" "verdict eicar.com score 100" "verdict benign.txt score [0-9]+"; do
        grep -qE "$pattern" "$out/$name.out" || { echo "   missing /$pattern/" >&2; failures=$((failures + 1)); }
    done
}
run c-firmware
run c-firmware-short-enums --fail-unavailable 2
grep -q "retrying" "$out/c-firmware-short-enums.out" || { echo "   no retry seen" >&2; failures=$((failures + 1)); }
if [ "$failures" -gt 0 ]; then
    echo "c-firmware: $failures checks failed" >&2
    exit 1
fi
echo "c-firmware: both images ran as expected"
