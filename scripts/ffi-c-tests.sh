#!/usr/bin/env bash
# The C ABI's tests from C (transports/ffi/tests/c): built with gcc and
# clang in strict C99, run under AddressSanitizer + UndefinedBehaviorSanitizer,
# then under Valgrind; the header compiled as C++.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v clang >/dev/null || need+=(clang)
command -v valgrind >/dev/null || need+=(valgrind)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build -q -p lastline-ffi
lib=target/debug/liblastline_ffi.a
out=target/ffi-c-tests
mkdir -p "$out"
src=transports/ffi/tests/c
strict=(-std=c99 -Wall -Wextra -Wpedantic -Werror -g -Itransports/ffi/include)
libs=(-lpthread -ldl -lm)
for cc in gcc clang; do
    echo "-- $cc, ASan + UBSan"
    "$cc" "${strict[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
        "$src/abi_test.c" "$src/scripted.c" "$lib" "${libs[@]}" -o "$out/abi_test-$cc-asan"
    "$out/abi_test-$cc-asan"
done
echo "-- gcc, Valgrind"
gcc "${strict[@]}" "$src/abi_test.c" "$src/scripted.c" "$lib" "${libs[@]}" -o "$out/abi_test-valgrind"
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    "$out/abi_test-valgrind"
echo "-- the header as C++ (g++ -fsyntax-only) and as C11"
g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only transports/ffi/include/lastline.h
gcc -x c -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only transports/ffi/include/lastline.h
