#!/usr/bin/env bash
# examples/c-posix against the emulator over TLS (mbedTLS, the test PKI's
# CA pinned). Runs, each checked:
#   fresh      benign file and EICAR: both uploaded (101), verdicts from a
#              new cursor (EICAR malicious, the other benign), a PDF report
#   again      the same files: known by hash (no upload), the cursor
#              restored from its file, verdicts again
#   busy       the emulator answers 107 twice, then works: the same
#   wrong-ca   the server's certificate is not signed by the pinned CA:
#              refused, promptly, nothing retried
# Needs libmbedtls-dev, openssl, python3. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
out=$root/target/c-posix
pki=$root/target/test-pki
mkdir -p "$out"
if [ ! -f /usr/include/mbedtls/ssl.h ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmbedtls-dev >/dev/null
fi
scripts/test-pki.sh "$pki" >/dev/null
cargo build -q --release -p lastline-ffi -p lastline-emulator
cc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -Itransports/ffi/include \
    examples/c-posix/main.c examples/c-posix/net.c "$target/release/liblastline_ffi.a" \
    -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -ldl -lm -o "$out/lastline-c-posix"
printf 'a benign file for the C client\n' >"$out/benign.txt"
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$out/eicar.com"

. scripts/loopback.sh

failures=0
# check NAME FILE PATTERN...: every pattern is in FILE.
check() {
    local name=$1 file=$2
    shift 2
    for pattern in "$@"; do
        if ! grep -qE "$pattern" "$file"; then
            echo "   $name: missing /$pattern/" >&2
            failures=$((failures + 1))
        fi
    done
}

port=$(free_port)
"$target/release/lastline-emulator" --listen "127.0.0.1:$port" --key c-key --token c-token \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" >"$out/emulator.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
wait_listening "$port"
client=("$out/lastline-c-posix" --host localhost --port "$port" --key c-key --token c-token
    --cursor "$out/cursor.bin")
rm -f "$out/cursor.bin" "$out/report.pdf"

echo "== fresh"
timeout 120 "${client[@]}" --ca "$pki/ca.pem" --pdf "$out/report.pdf" \
    "$out/benign.txt" "$out/eicar.com" | tee "$out/fresh.out"
check fresh "$out/fresh.out" "task [0-9a-f]{32} \(uploaded\)" "verdict [0-9a-f]{32} benign" \
    "verdict [0-9a-f]{32} malicious score" "report of [0-9a-f]{32} saved"
[ "$(head -c 5 "$out/report.pdf")" = "%PDF-" ] || { echo "   fresh: not a PDF" >&2; failures=$((failures + 1)); }
[ "$(grep -c '(uploaded)' "$out/fresh.out")" = 2 ] || failures=$((failures + 1))

echo "== again"
timeout 120 "${client[@]}" --ca "$pki/ca.pem" "$out/benign.txt" "$out/eicar.com" | tee "$out/again.out"
check again "$out/again.out" "cursor restored" "known hash, no upload" \
    "verdict [0-9a-f]{32} benign" "verdict [0-9a-f]{32} malicious"
if grep -q "(uploaded)" "$out/again.out"; then
    echo "   again: uploaded a file the server had" >&2
    failures=$((failures + 1))
fi
kill $emu; wait $emu 2>/dev/null || true

echo "== busy"
"$target/release/lastline-emulator" --listen "127.0.0.1:$port" --key c-key --token c-token \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --fail-unavailable 2 >"$out/emulator-busy.log" 2>&1 &
emu=$!
wait_listening "$port"
rm -f "$out/cursor.bin"
timeout 120 "${client[@]}" --ca "$pki/ca.pem" "$out/eicar.com" | tee "$out/busy.out"
check busy "$out/busy.out" "retrying in" "verdict [0-9a-f]{32} malicious"

echo "== wrong-ca"
status=0
timeout 60 "${client[@]}" --ca "$pki/wrong-ca.pem" "$out/eicar.com" >"$out/wrong-ca.out" 2>&1 || status=$?
cat "$out/wrong-ca.out"
[ "$status" = 1 ] || { echo "   wrong-ca: exit status $status, want 1" >&2; failures=$((failures + 1)); }
check wrong-ca "$out/wrong-ca.out" "TLS handshake" "submission failed: connection failed"

if [ "$failures" -gt 0 ]; then
    echo "c-posix: $failures checks failed" >&2
    exit 1
fi
echo "c-posix: all runs as expected"
