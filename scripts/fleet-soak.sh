#!/usr/bin/env bash
# Fleet soak (issue 15): 64 simulated sensors — threads, each its own
# client, samples and persisted cursor — against one emulator on loopback
# for 2 minutes of random faults (107, 503, 429, resets, closes, 122, slow
# answers), then until every verdict is learned (at most 2 more minutes).
# Prints submitted, learned, lost (must be 0: exit status 1 otherwise),
# duplicates delivered, requests/s and the submission latency p50/p99.
# Bounded in time and count; stops by itself. Arguments go to the soak
# (`--sensors 16 --seconds 20` for a short one; `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -q -p fleet-soak -- "$@"
