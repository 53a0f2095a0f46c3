#!/usr/bin/env bash
# Peak RSS of `lastline submit` uploading a large sample to the emulator
# (upload limit above the sample, --forget-files so the upload branch runs),
# next to `lastline ping` in the same run as the baseline.
#
#   scripts/upload-rss.sh [MiB ...]      (default: 64 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(64 1024); fi
cargo build -q --release -p lastline-cli -p lastline-emulator
dir=$(mktemp -d)
trap 'kill "${emu:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))
./target/release/lastline-emulator --listen "127.0.0.1:$port" --key K --token T \
  --upload-limit $((4 << 30)) --forget-files >"$dir/emu.log" 2>&1 &
emu=$!
sleep 0.5
export LASTLINE_API_KEY=K LASTLINE_API_TOKEN=T
cli() { /usr/bin/time -v ./target/release/lastline --quiet --base-url "http://127.0.0.1:$port" "$@" 2>"$dir/time" >"$dir/out"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time"; }
cli ping
base=$(rss)
printf '%-28s %12s %10s %12s\n' "command" "peak RSS KiB" "vs ping" "wall"
printf '%-28s %12s %10s %12s\n' "lastline ping" "$base" "1.00x" "$(wall)"
for mib in "${sizes[@]}"; do
  head -c $((mib << 20)) /dev/urandom >"$dir/sample.bin"
  cli --json submit "$dir/sample.bin"
  grep -Eq '"uploaded": ?true' "$dir/out" || { echo "upload branch did not run:"; cat "$dir/out"; exit 1; }
  r=$(rss)
  printf '%-28s %12s %9.2fx %12s\n' "lastline submit ($mib MiB)" "$r" "$(echo "$r / $base" | bc -l)" "$(wall)"
  rm -f "$dir/sample.bin"
done
