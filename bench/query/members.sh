#!/usr/bin/env bash
# Merged query latency (SPEC section 9): MEMBERS members of one consumer group (2 tasks
# each) over one shared tables root, finding each other through a shared `peers/` namespace;
# once every member covers every task, clients ask member a's socket: each answer merges a's
# partials with the others' (fetched over HTTP in parallel).
#   MEMBERS=3 POSTS=3000 CLIENTS=1 REQUESTS=500 bench/query/members.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/build/pinstream}  # BIN=other/pinstream: compare two builds
MEMBERS=${MEMBERS:-3}
POSTS=${POSTS:-3000}
PARTS=$((MEMBERS * 2))
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
id=bench$$
sed -e 's/  # tasks: partitions/  tasks: partitions/' \
    -e 's/    group_id: pinstream-${PINSTREAM_ID:-pinterest}/    group_id: '"$id"'-g/' \
    examples/pinterest/pipeline.yaml >"$work/pipeline.yaml"
PINSTREAM_ID=$id $BIN broker --partitions "$PARTS" >"$work/broker.log" 2>"$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.log" ] && break; sleep 0.1; done
export PINSTREAM_ID=$id PINSTREAM_KAFKA=$(head -1 "$work/broker.log")
export PINSTREAM_TABLES=$work/tables
mkdir -p "$work/peers"
names=(a b c d e f g h)
for i in $(seq 0 $((MEMBERS - 1))); do
  m=${names[$i]}
  mkdir -p "$work/ckpt-$m"
  ln -s "$work/peers" "$work/ckpt-$m/peers"
  PINSTREAM_DATA=$work/$m PINSTREAM_CHECKPOINTS=$work/ckpt-$m \
    $BIN run --config "$work/pipeline.yaml" >"$work/$m.log" 2>&1 &
  pids+=($!)
done
sleep 8  # the dev broker's first join takes ~3 s; every member must hold its tasks first
$BIN emulate --config "$work/pipeline.yaml" --sink kafka --count "$POSTS" --seed 7 >/dev/null
sock=$work/a/pinstream.sock
for _ in $(seq 300); do
  covered=$($BIN query most_popular_category_by_country --socket "$sock" --format json 2>/dev/null |
            python3 -c 'import json,sys; t=json.load(sys.stdin)["tasks"]; print(t["covered"], t["total"])' \
            2>/dev/null || echo "0 0")
  [ "$covered" = "$PARTS $PARTS" ] && break
  sleep 0.2
done
echo "member a covers: $covered (tasks covered, total) with $MEMBERS members"
echo "-- one client, back to back: the latency of one merged answer"
build/bench/query_latency "$sock" 1 "${REQUESTS:-500}" 0
echo "-- ${CLIENTS:-8} clients, one request every 10 ms each"
build/bench/query_latency "$sock" "${CLIENTS:-8}" "${REQUESTS:-500}" 10
