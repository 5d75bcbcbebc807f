#!/usr/bin/env bash
# Scale-out throughput (issue 17): the same realistic input in the dev broker, read by one
# `tasks: partitions` member pinned to one core (taskset) against two members of one group
# pinned to one core each, over one shared tables root. Each configuration runs
# `run --available-now` in a new consumer group; timed from the first process start to the
# last process exit. The consumer-group join (the dev broker delays a new group's first
# rebalance by ~3 s) is in both; "after join" is also printed: from the last member's
# "partitions assigned" log line to the last exit. The dev broker itself runs unpinned and
# shares the two cores. Alternating rounds; medians.
#   [PARTITIONS=48] [BROKERS=3] bench/groups/scale.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-100000}
ROUNDS=${2:-3}
PARTITIONS=${PARTITIONS:-48}
BROKERS=${BROKERS:-3}
BIN=${BIN:-build/pinstream}
export PINSTREAM_ID=gbench
OUT=bench/out/groups-$POSTS-$PARTITIONS
mkdir -p "$OUT"
if [ ! -d "$OUT/raw/topics" ]; then
  echo "generating $POSTS realistic posts into $OUT/raw ($PARTITIONS partitions per stream)"
  /usr/bin/python3 bench/gen/realistic.py --posts "$POSTS" --seed 7 --partitions "$PARTITIONS" \
    --id "$PINSTREAM_ID" --out "$OUT/raw" >"$OUT/input.json"
fi
RECORDS=$(cat "$OUT"/raw/topics/*/*/*.json | wc -l)
echo "input: $RECORDS raw records"

work=$(mktemp -d)
pids=()
trap 'kill "$broker" "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
. bench/lib.sh
start_broker "$BIN" "$PARTITIONS" "$BROKERS" "$work"
for d in "$OUT"/raw/topics/*/partition=*; do
  topic=$(basename "$(dirname "$d")"); p=${d##*=}
  ls "$d" | sort -t+ -k3 -n | sed "s|^|$d/|" | xargs cat |
    kcat -P -b "$PINSTREAM_KAFKA" -t "$topic" -p "$p" -X message.max.bytes=8000000 -q
done

now() { date +%s.%N; }
# The time (s since the epoch) of the last "partitions assigned" line in a member's log.
assigned_at() {
  local t; t=$(grep "Kafka partitions assigned" "$1" | tail -1 |
    grep -oE '^\[?[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+' | tr -d '[' | tr T ' ')
  [ -n "$t" ] && date -d "$t" +%s.%N || echo 0
}
declare -A W A
run_members() {  # run_members NAME CORES... : one member per core, all in one new group
  local name=$1; shift
  rm -rf "$work/m" && mkdir -p "$work/m"
  sed -e 's|^  # tasks: partitions|  tasks: partitions|' \
      -e "s|^    group_id: .*|    group_id: gbench-$name-$RANDOM-$$|" \
      examples/pinterest/pipeline.yaml >"$work/m/pipeline.yaml"
  local s i=0 c; s=$(now); pids=()
  for c in "$@"; do
    PINSTREAM_SOURCE=kafka PINSTREAM_DATA="$work/m/data$i" PINSTREAM_TABLES="$work/m/tables" \
      PINSTREAM_INSTANCE_ID="gbench-$i" taskset -c "$c" "$BIN" run --config "$work/m/pipeline.yaml" \
      --available-now >"$work/m/log$i" 2>&1 &
    pids+=($!); i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p" || { tail -5 "$work"/m/log*; exit 1; }; done
  local e; e=$(now); pids=()
  local last=0 t
  for ((j = 0; j < i; j++)); do
    t=$(assigned_at "$work/m/log$j"); last=$(awk -v a="$last" -v b="$t" 'BEGIN{print (b>a)?b:a}')
  done
  local w a; w=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e-s}')
  a=$(awk -v l="$last" -v e="$e" 'BEGIN{printf "%.2f", e-l}')
  W[$name]+="$w "; A[$name]+="$a "
  local n; n=$(PINSTREAM_DATA="$work/m/data0" $BIN query --config "$work/m/pipeline.yaml" --stats --format json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(v["read"] for v in json.load(sys.stdin)["streams"].values()))')
  printf '  %-10s %6.2f s  after join %6.2f s  %7.0f records/s after join  load %s  member0 read %s\n' \
    "$name" "$w" "$a" "$(awk -v n="$RECORDS" -v t="$a" 'BEGIN{print n/t}')" "$(cut -d' ' -f1 /proc/loadavg)" "$n"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  run_members one 0
  run_members two 0 1
done
echo "medians over $ROUNDS rounds:"
for name in one two; do
  w=$(printf '%s\n' ${W[$name]} | median); a=$(printf '%s\n' ${A[$name]} | median)
  printf '  %-4s %6.2f s  after join %6.2f s  %7.0f records/s\n' "$name" "$w" "$a" \
    "$(awk -v n="$RECORDS" -v t="$a" 'BEGIN{print n/t}')"
done
w1=$(printf '%s\n' ${A[one]} | median); w2=$(printf '%s\n' ${A[two]} | median)
echo "two/one throughput after join: $(awk -v a="$w1" -v b="$w2" 'BEGIN{printf "%.2f", a/b}')x"
