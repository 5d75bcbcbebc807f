#!/usr/bin/env bash
# Kafka end to end against files, on the same bytes: the realistic input
# (bench/gen/realistic.py, PARTITIONS partitions per stream) is loaded into the dev broker
# (BROKERS brokers, partition p of each file set into partition p of its topic, line by line
# with kcat), then the default pipeline runs `run --available-now` over the files and over
# Kafka, alternating, each timed from process start to exit (after its last commit).
# MODES: the Kafka runs to do each round: `all` (source.kafka.partitions: all, no group join)
# and/or `group` (a new consumer group each run: the dev broker's 3 s first-join delay).
# Prints per run wall, CPU, peak RSS, records/s and MB/s of the input, and checks that every
# run counted the same (read, clean, dead letters, duplicates, late).
# BASE_BIN: another build (e.g. main's) also run each round over Kafka (`all`), for an A/B
# on the same broker and data, alternating. BASE_ENV: VAR=VALUE words for that run (with
# this build when BASE_BIN is unset), e.g. BASE_ENV=PINSTREAM_MALLOC_TRIM=0; several
# variants separated by `;` run one after another (kafka-base1, kafka-base2...).
# LOAD_PROPS: kcat's producer settings for the load (default batch.size=16384: batches of at
# most 16 KiB, as the Java producer behind a REST proxy makes them; the dev broker answers a
# fetch with one whole batch per partition, so this decides what a fetch brings; empty:
# librdkafka's 1 MB batches).
#   [PARTITIONS=64] [BROKERS=3] [MODES="all group"] [BASE_BIN=...] [LOAD_PROPS=...]
#   bench/kafka/e2e.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-200000}
ROUNDS=${2:-3}
PARTITIONS=${PARTITIONS:-64}  # the mock keeps ~5 MiB per partition: 200k posts need > 40
BROKERS=${BROKERS:-3}
MODES=${MODES:-all group}
LOAD_PROPS=${LOAD_PROPS-batch.size=16384}
load_x=(); for p in $LOAD_PROPS; do load_x+=(-X "$p"); done
BIN=${BIN:-build/pinstream}
export PINSTREAM_ID=kbench
OUT=bench/out/kafka-e2e-$POSTS-$PARTITIONS
mkdir -p "$OUT"
if [ ! -d "$OUT/raw/topics" ]; then
  echo "generating $POSTS realistic posts into $OUT/raw ($PARTITIONS partitions per stream)"
  /usr/bin/python3 bench/gen/realistic.py --posts "$POSTS" --seed 7 --partitions "$PARTITIONS" \
    --id "$PINSTREAM_ID" --out "$OUT/raw" >"$OUT/input.json"
fi
RECORDS=$(cat "$OUT"/raw/topics/*/*/*.json | wc -l)
BYTES=$(cat "$OUT"/raw/topics/*/*/*.json | wc -c)
echo "input: $RECORDS raw records, $(awk -v b="$BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB of lines"

work=$(mktemp -d)
trap 'kill "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT
. bench/lib.sh
start_broker "$BIN" "$PARTITIONS" "$BROKERS" "$work"
s=$(date +%s.%N)
for d in "$OUT"/raw/topics/*/partition=*; do
  topic=$(basename "$(dirname "$d")"); p=${d##*=}
  # In offset order (the files are named <topic>+<p>+<first offset>.json).
  ls "$d" | sort -t+ -k3 -n | sed "s|^|$d/|" | xargs cat |
    kcat -P -b "$PINSTREAM_KAFKA" -t "$topic" -p "$p" -X message.max.bytes=8000000 "${load_x[@]}" -q \
      2>>"$work/load.err"
done
loaded=0
for st in pin geo user; do
  n=$(kcat -b "$PINSTREAM_KAFKA" -C -e -q -o beginning -t "$PINSTREAM_ID.$st" -f '\n' | wc -l)
  loaded=$((loaded + n))
done
echo "loaded into $BROKERS brokers (kcat -X ${LOAD_PROPS:-(defaults)}) in $(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s:" \
     "$loaded records of $RECORDS ($(sort -u "$work/load.err" | head -3 | tr '\n' ' '))"

wall() { grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' |
         awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
rss() { grep "Maximum resident set size" "$1" | awk '{print int($NF / 1024)}'; }
declare -A W C
counts() {  # what the run counted, one line
  PINSTREAM_DATA="$1" $BIN query --config examples/pinterest/pipeline.yaml --stats --format json 2>/dev/null |
    python3 -c 'import json,sys; s=json.load(sys.stdin)["streams"]
print(" ".join("%s=%d" % (k, sum(v[k] for v in s.values())) for k in ("read","clean","dead","duplicates","late")))'
}
run_one() {  # run_one NAME ENV...
  local name=$1; shift
  rm -rf "$work/data"
  local la; la=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v -o "$work/time.log" env "$@" PINSTREAM_DATA="$work/data" \
    "${RUN_BIN:-$BIN}" run --config "$CONFIG" --available-now >"$work/run.log" 2>&1 || { tail -5 "$work/run.log"; exit 1; }
  local w c; w=$(wall "$work/time.log"); c=$(cpu "$work/time.log")
  W[$name]+="$w "; C[$name]+="$c "
  printf '  %-14s %6.2f s  CPU %5.2f s  peak RSS %4d MiB  %7.0f records/s %5.1f MB/s  load %s  %s\n' "$name" "$w" \
    "$c" "$(rss "$work/time.log")" "$(awk -v n="$RECORDS" -v t="$w" 'BEGIN{print n/t}')" \
    "$(awk -v b="$BYTES" -v t="$w" 'BEGIN{print b/1e6/t}')" "$la" "$(counts "$work/data")"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  CONFIG=examples/pinterest/pipeline.yaml
  run_one files PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw"
  for m in $MODES; do
    # A new group each run; `partitions: all` from this run's copy of the default pipeline.
    CONFIG="$work/pipeline-$m.yaml"
    sed "s|^    group_id: .*|    group_id: kbench-$r-$m-$$|" examples/pinterest/pipeline.yaml >"$CONFIG"
    [ "$m" = all ] && sed -i "s|^    group_id: .*|&\n    partitions: all|" "$CONFIG"
    run_one "kafka-$m" PINSTREAM_SOURCE=kafka
    if [ "$m" = all ] && [ -n "${BASE_BIN:-}${BASE_ENV:-}" ]; then
      i=0
      IFS=';' read -r -a variants <<<"${BASE_ENV:- }"
      for v in "${variants[@]}"; do
        i=$((i + 1))
        # shellcheck disable=SC2086 # a variant: VAR=VALUE words
        RUN_BIN=${BASE_BIN:-$BIN} run_one "kafka-base$i" PINSTREAM_SOURCE=kafka $v
      done
    fi
  done
done
echo "medians over $ROUNDS rounds (process start to exit, --available-now):"
BASE_RUNS=$(printf '%s\n' "${!W[@]}" | grep '^kafka-base' | sort | tr '\n' ' ')
f=$(printf '%s\n' ${W[files]} | median)
for name in files $(for m in $MODES; do echo "kafka-$m"; done) ${BASE_RUNS:-}; do
  w=$(printf '%s\n' ${W[$name]} | median); c=$(printf '%s\n' ${C[$name]} | median)
  printf '  %-14s %6.2f s (CPU %5.2f s)  %7.0f records/s  %5.1f MB/s  files/this: %.2f\n' "$name" "$w" "$c" \
    "$(awk -v n="$RECORDS" -v t="$w" 'BEGIN{print n/t}')" "$(awk -v b="$BYTES" -v t="$w" 'BEGIN{print b/1e6/t}')" \
    "$(awk -v a="$f" -v b="$w" 'BEGIN{print a/b}')"
done
