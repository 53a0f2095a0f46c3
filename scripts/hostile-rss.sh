#!/usr/bin/env bash
# Peak RSS of the CLI against a hostile server's 1 GiB answer (or SIZE
# bytes: scripts/hostile-rss.sh SIZE) (a method
# with --json, and `completed`), beside `ping`'s: the memory bound must
# not grow with the answer. Measured with /usr/bin/time -v; the server is
# scripts/hostile-answer.py on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
cargo build -q --release -p lastline-cli
bin=target/release/lastline
size=${1:-1073741824}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 scripts/hostile-answer.py "$port" "$size" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 0.5
export LASTLINE_API_KEY=k LASTLINE_API_TOKEN=t
run() {
    local name=$1; shift
    /usr/bin/time -v "$bin" --base-url "http://127.0.0.1:$port" --retries 0 --deadline 600 "$@" >/dev/null 2>/tmp/hostile-rss.err || true
    local rss; rss=$(grep 'Maximum resident' /tmp/hostile-rss.err | awk '{print $NF}')
    local secs; secs=$(grep 'Elapsed (wall' /tmp/hostile-rss.err | awk '{print $NF}')
    local said; said=$(grep '^lastline:' /tmp/hostile-rss.err | head -1 | cut -c1-100 || true)
    printf '%-32s peak RSS %7d KiB  wall %s  %s\n' "$name" "$rss" "$secs" "$said"
}
run "ping" ping
run "get-result --json ($((size >> 20)) MiB)" --json get-result 0123456789abcdef0123456789abcdef
run "completed ($((size >> 20)) MiB page)" completed --after 2026-12-01
