#!/usr/bin/env bash
# The sensor firmware running: builds examples/sensor for QEMU's
# mps2-an386 (Cortex-M4) with the test PKI's CA pinned, starts the
# emulator with TLS on loopback, and runs the image under QEMU, its UART
# relayed to the emulator by scripts/uart-relay.py. Four runs, each
# checked:
#   plain        both verdicts (EICAR malicious, the other benign) and the
#                resubmission's "known hash, no upload"
#   close        the emulator closes every connection: the same, over a
#                new TLS session per connection
#   107x2        the submission answers 107 twice: the same
#   wrong-ca     the server's certificate is not signed by the pinned CA:
#                a TLS verification error, exit status 1, promptly
# Needs qemu-system-arm, openssl, python3. Everything stays on 127.0.0.1.
#
#   scripts/qemu-sensor.sh            all runs
#   scripts/qemu-sensor.sh plain      one run
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
pki=$root/target/test-pki
out=$root/target/qemu-sensor
mkdir -p "$out"

scripts/test-pki.sh "$pki" >/dev/null
echo "== building the image (mps2-an386, CA pinned from $pki/ca.der) and the emulator"
(cd examples/sensor && SENSOR_CA_DER="$pki/ca.der" cargo build --release -q --features qemu --target-dir "$out/build")
elf=$out/build/thumbv7em-none-eabihf/release/sensor
cargo build --release -q -p lastline-emulator
emulator=$target/release/lastline-emulator

. scripts/loopback.sh

failures=0

# run NAME WANTED_EXIT_STATUS CERT KEY [emulator switches...]
run() {
    local name=$1 want=$2 cert=$3 key=$4
    shift 4
    local eport qport emu qemu relay status=0
    eport=$(free_port)
    qport=$(free_port)
    "$emulator" --listen "127.0.0.1:$eport" --key sensor-key --token sensor-token \
        --tls-cert "$cert" --tls-key "$key" "$@" >"$out/$name.emulator.log" 2>&1 &
    emu=$!
    wait_listening "$eport"
    # QEMU waits (server=on,wait=on) until the relay is on its UART socket.
    timeout 300 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none \
        -icount shift=0 -semihosting-config enable=on,target=native \
        -chardev "socket,id=uart,host=127.0.0.1,port=$qport,server=on,wait=on" \
        -serial chardev:uart -kernel "$elf" >"$out/$name.out" 2>&1 &
    qemu=$!
    python3 scripts/uart-relay.py --uart "127.0.0.1:$qport" --upstream "127.0.0.1:$eport" ${RELAY_LOG:+--log} \
        2>"$out/$name.relay.log" &
    relay=$!
    wait "$qemu" || status=$?
    kill "$relay" "$emu" 2>/dev/null || true
    wait "$relay" "$emu" 2>/dev/null || true
    echo "== $name (QEMU exit status $status)"
    sed 's/^/   /' "$out/$name.out"
    sed 's/^/   /' "$out/$name.relay.log"
    local ok=1
    [ "$status" = "$want" ] || ok=0
    shift 0
    for pattern in "${expect[@]}"; do
        if ! grep -qE "$pattern" "$out/$name.out"; then
            echo "   MISSING: $pattern"
            ok=0
        fi
    done
    if [ $ok = 1 ]; then
        echo "   PASS $name"
    else
        echo "   FAIL $name (wanted exit status $want)"
        failures=$((failures + 1))
    fi
}

verdicts=(
    'verdict eicar-4k\.bin: task [0-9a-f]{32}: score (7[0-9]|[89][0-9]|100): malicious'
    'verdict traffic-64k\.bin: task [0-9a-f]{32}: score ([0-9]|[12][0-9]): benign'
    'eicar-4k\.bin: task [0-9a-f]{32}: uploaded'
    'eicar-4k\.bin: task [0-9a-f]{32}: known hash, no upload'
    'sensor: done'
)
only=${1:-all}
if [[ $only == measure ]]; then
    # Figures for BENCHMARKS.md, all of one image: built by nightly with
    # -Z emit-stack-sizes (scripts/firmware-size.sh: sections, .text by
    # group, the static stack bound), then run (the observed high-water
    # mark and instruction counts).
    CARGO_TARGET_DIR=$out/measure SENSOR_CA_DER="$pki/ca.der" scripts/firmware-size.sh sensor --features qemu
    elf=$out/measure/thumbv7em-none-eabihf/release/sensor
    expect=("${verdicts[@]}")
    run measure 0 "$pki/server.pem" "$pki/server.key"
    [ $failures = 0 ] || exit 1
    exit 0
fi
cert=$pki/server.pem
key=$pki/server.key
if [[ $only == all || $only == plain ]]; then
    expect=("${verdicts[@]}")
    run plain 0 "$cert" "$key"
fi
if [[ $only == all || $only == close ]]; then
    expect=("${verdicts[@]}" 'session [4-9]: TCP and TLS 1.3 open' 'ended: the server closed the connection')
    run close 0 "$cert" "$key" --connection-close
fi
if [[ $only == all || $only == 107x2 ]]; then
    expect=("${verdicts[@]}" 'client: Retry \{ attempt: 1, .*Api.*TemporarilyUnavailable|client: Retry \{ attempt: 1' 'client: Retry \{ attempt: 2')
    run 107x2 0 "$cert" "$key" --fault 'submit_file:107*2'
fi
if [[ $only == all || $only == wrong-ca ]]; then
    expect=('TLS verification failed')
    run wrong-ca 1 "$pki/wrong-server.pem" "$pki/wrong-server.key"
fi
if [ $failures -gt 0 ]; then
    echo "qemu-sensor: $failures run(s) failed" >&2
    exit 1
fi
echo "qemu-sensor: every run passed"
