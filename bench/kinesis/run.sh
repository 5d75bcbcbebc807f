#!/usr/bin/env bash
# Kinesis source and producer throughput against the two emulators (in-process node
# servers, so this measures pinstream plus the emulator, not AWS).
#   BUILD_DIR=build-kinesis RECORDS=50000 SMALL=600 bench/kinesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
RECORDS=${RECORDS:-50000}     # kinesalite
SMALL=${SMALL:-600}           # kinesis-local is slow (~400 puts/s): keep it tiny
SHARDS=${SHARDS:-3}
BYTES=${BYTES:-400}           # about a post's JSON size
BENCH="$BUILD_DIR/tests/integration/kinesis/kinesis_bench"
MODULES="$PWD/.tools/node/node_modules"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

p1=$(free_port)
node "$MODULES/kinesalite/cli.js" --port "$p1" --host 127.0.0.1 --createStreamMs 50 >/dev/null 2>&1 &
pids+=($!)
wait_port "$p1"
echo "== kinesalite: $RECORDS records of ~$BYTES bytes, $SHARDS shards"
"$BENCH" "http://127.0.0.1:$p1" "$RECORDS" "$SHARDS" "$BYTES"
echo "== kinesalite, no per-shard call limit (min_call_interval_ms 0)"
"$BENCH" "http://127.0.0.1:$p1" "$RECORDS" "$SHARDS" "$BYTES" 0

p2=$(free_port); p3=$(free_port)
(cd "$MODULES/kinesis-local" && KINESIS_MOCK_PLAIN_PORT=$p2 KINESIS_MOCK_TLS_PORT=$p3 LOG_LEVEL=ERROR \
  CREATE_STREAM_DURATION=50ms exec node main.js >/dev/null 2>&1) &
pids+=($!)
wait_port "$p2"
echo "== kinesis-local: $SMALL records of ~$BYTES bytes, $SHARDS shards"
"$BENCH" "http://127.0.0.1:$p2" "$SMALL" "$SHARDS" "$BYTES"
