#!/usr/bin/env bash
# examples/python-asyncio against the emulator over TLS (the test PKI's CA
# pinned): asyncio's event loop doing the I/O of lastline-ffi's exchanges
# through ctypes. Two runs, each checked: fresh (both files uploaded at
# once, verdicts from a new cursor, a PDF report) and again (known by hash, the cursor
# restored from its file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
out=$root/target/python-asyncio
pki=$root/target/test-pki
mkdir -p "$out"
scripts/test-pki.sh "$pki" >/dev/null
cargo build -q --release -p lastline-ffi -p lastline-emulator
printf 'a benign file for the asyncio client\n' >"$out/benign.txt"
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$out/eicar.com"
. scripts/loopback.sh
port=$(free_port)
"$target/release/lastline-emulator" --listen "127.0.0.1:$port" --key py-key --token py-token \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" >"$out/emulator.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
wait_listening "$port"
rm -f "$out/cursor.bin"
client=(python3 examples/python-asyncio/lastline_asyncio.py --lib "$target/release/liblastline_ffi.so"
    --header transports/ffi/include/lastline.h --port "$port" --ca "$pki/ca.pem"
    --key py-key --token py-token --cursor "$out/cursor.bin" "$out/benign.txt" "$out/eicar.com")
failures=0
check() {
    local file=$1
    shift
    for pattern in "$@"; do
        grep -qE "$pattern" "$file" || { echo "   missing /$pattern/ in $file" >&2; failures=$((failures + 1)); }
    done
}
echo "== fresh"
rm -f "$out/report.pdf"
timeout 120 "${client[@]}" --pdf "$out/report.pdf" | tee "$out/fresh.out"
check "$out/fresh.out" "benign.txt: task [0-9a-f]{32} \(uploaded\)" "eicar.com: task [0-9a-f]{32} \(uploaded\)" \
    "verdict [0-9a-f]{32} malicious score 100" "verdict [0-9a-f]{32} benign" "report of [0-9a-f]{32} saved"
[ "$(head -c 5 "$out/report.pdf")" = "%PDF-" ] || { echo "   not a PDF" >&2; failures=$((failures + 1)); }
echo "== again"
timeout 120 "${client[@]}" | tee "$out/again.out"
check "$out/again.out" "cursor restored" "eicar.com: task [0-9a-f]{32} \(known hash, no upload\)" \
    "verdict [0-9a-f]{32} malicious score 100"
if [ "$failures" -gt 0 ]; then
    echo "python-asyncio: $failures checks failed" >&2
    exit 1
fi
echo "python-asyncio: both runs as expected"
