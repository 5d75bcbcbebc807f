#!/usr/bin/env bash
# Dashboard page load (navigation to the first complete drawing, headless Chromium, real
# time) against a daemon at full ingest speed over POSTS emulated posts, then idle.
# Usage: bench/dashboard/run.sh [POSTS] [LOADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-1000000}
LOADS=${2:-5}
BIN=build/pinstream
OUT=bench/out/dashboard-$POSTS
PORT=${PORT:-18939}
mkdir -p "$OUT"
[ -d "$OUT/raw/topics" ] || $BIN emulate --count "$POSTS" --seed 7 --sink files --out "$OUT/raw" >/dev/null
rm -rf "$OUT/data"
PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw" PINSTREAM_DATA="$OUT/data" PINSTREAM_HTTP=127.0.0.1:$PORT \
  $BIN run --config examples/pinterest/pipeline.yaml >"$OUT/run.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/api/stats" >/dev/null; do sleep 0.1; done
read_total() { curl -s "http://127.0.0.1:$PORT/api/stats" | python3 -c \
  'import json,sys; print(sum(s["read"] for s in json.load(sys.stdin)["streams"].values()))'; }
echo "while ingesting (records read at start: $(read_total)):"
node --experimental-websocket bench/dashboard/page_load.js "http://127.0.0.1:$PORT/" "$LOADS" 2>/dev/null
echo "records read at end: $(read_total) of $(cat "$OUT"/raw/topics/*/*/*.json | wc -l)"
last=-1
while [ "$(read_total)" != "$last" ]; do last=$(read_total); sleep 3; done
echo "idle:"
node --experimental-websocket bench/dashboard/page_load.js "http://127.0.0.1:$PORT/" "$LOADS" 2>/dev/null
