#!/usr/bin/env bash
# Live query latency: emulate POSTS posts as files, start the daemon on them, wait until it
# has read them all, then 64 clients ask views over the socket while it stays up.
#   POSTS=20000 CLIENTS=64 REQUESTS=200 bench/query/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/pinstream
POSTS=${POSTS:-20000}
work=$(mktemp -d)
trap 'kill "$daemon" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
$BIN emulate --count "$POSTS" --seed 7 --sink files --out "$work/raw" >/dev/null
export PINSTREAM_SOURCE=files PINSTREAM_FILES="$work/raw" PINSTREAM_DATA="$work/data"
$BIN run --config examples/pinterest/pipeline.yaml >"$work/run.log" 2>&1 &
daemon=$!
for _ in $(seq 600); do
  read=$($BIN query --socket "$work/data/pinstream.sock" --stats 2>/dev/null |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["streams"]["pin"]["read"])' 2>/dev/null || echo 0)
  [ "$read" = "$POSTS" ] && break
  sleep 0.2
done
echo "daemon has read $read posts"
echo "-- saturation: every client sends back to back"
build/bench/query_latency "$work/data/pinstream.sock" "${CLIENTS:-64}" "${REQUESTS:-200}" 0
echo "-- paced: each client sends one request every 10 ms (6,400 requests/s in all)"
build/bench/query_latency "$work/data/pinstream.sock" "${CLIENTS:-64}" "${REQUESTS:-200}" 10
echo "-- while ingesting: the same paced load during a run over $POSTS more posts (new epochs)"
$BIN emulate --count "$POSTS" --seed 8 --sink files --out "$work/raw2" >/dev/null
# Move them in as later files of the same partitions (offsets past the first run's).
for f in "$work"/raw2/topics/*/*/*.json; do
  rel=${f#"$work/raw2/"}; base=$(basename "$f" .json); off=${base##*+}
  mv "$f" "$work/raw/$(dirname "$rel")/${base%+*}+$((off + 10000000)).json"
done
build/bench/query_latency "$work/data/pinstream.sock" "${CLIENTS:-64}" "${REQUESTS:-200}" 10
