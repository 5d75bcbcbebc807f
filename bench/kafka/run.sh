#!/usr/bin/env bash
# Raw Kafka consumption, like with like: kcat, a Python confluent-kafka consumer and the
# pinstream Kafka source read the same topics of the dev broker (librdkafka mock cluster, in
# memory, ~5 MiB kept per partition) to their end, each timed from its process start to its
# exit (just after its last record), in the same consumption mode:
#   assign: every tool assigns itself every partition (kcat -C, one process per topic in
#           parallel; Python assign(); pinstream `source.kafka.partitions: all`);
#   group:  every tool joins a new consumer group (kcat -G, Python subscribe(), pinstream's
#           default); the join is the dev broker's first-join delay (3 s, fixed in
#           librdkafka 2.0's mock) and is printed apart where the tool tells it.
# Rounds alternate the tools (kcat, Python, pinstream in one mode, then the other); medians
# at the end. Then, once: the Python consumer's full job (clean, dedup, join, one aggregate).
#   BUILD_DIR=build POSTS=200000 PARTITIONS=32 ROUNDS=3 bench/kafka/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
POSTS=${POSTS:-30000}      # the mock keeps ~5 MiB per partition: stay under it
PARTITIONS=${PARTITIONS:-3}
BROKERS=${BROKERS:-3}   # leaders spread over brokers: one fetch thread each in every consumer
ROUNDS=${ROUNDS:-3}
BIN="$BUILD_DIR/pinstream"
TEST="$BUILD_DIR/tests/integration/kafka/kafka_integration_test"
export PINSTREAM_ID="bench$$"
work=$(mktemp -d)
trap 'kill "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT

. bench/lib.sh
start_broker "$BIN" "$PARTITIONS" "$BROKERS" "$work"
echo "broker $PINSTREAM_KAFKA ($BROKERS brokers), $POSTS posts, $PARTITIONS partitions per topic," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" emulate --count "$POSTS" --sink kafka --brokers "$PINSTREAM_KAFKA" --duplicates-rate 0.1

now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
declare -A T  # "tool mode" -> wall seconds of each round

kcat_assign() {
  local pids=() st
  for st in pin geo user; do
    kcat -b "$PINSTREAM_KAFKA" -C -e -q -o beginning -t "$PINSTREAM_ID.$st" | wc -l >"$work/kcat.$st" &
    pids+=($!)
  done
  wait "${pids[@]}"
}
kcat_group() {
  kcat -b "$PINSTREAM_KAFKA" -G "kcat-$RANDOM$RANDOM" -e -q -X auto.offset.reset=earliest \
    "$PINSTREAM_ID.pin" "$PINSTREAM_ID.geo" "$PINSTREAM_ID.user" | wc -l >"$work/kcat.all"
}
python_raw() { /usr/bin/python3 bench/kafka/python_consumer.py "$PINSTREAM_KAFKA" "$PINSTREAM_ID" --raw "$@"; }
pinstream_source() {
  KAFKA_PARTITIONS=$1 "$TEST" --gtest_also_run_disabled_tests \
    --gtest_filter='KafkaConsumeRate.*' | grep '^pinstream kafka source'
}
timed() {  # timed KEY command...: wall time from process start to exit
  local s e
  s=$(now); "${@:2}" >"$work/out" 2>&1; e=$(now)
  T[$1]+="$(secs "$s" "$e") "
  printf '  %-22s %6.3f s  %s\n' "$1" "$(secs "$s" "$e")" "$(tr '\n' ' ' <"$work/out" | cut -c1-220)"
}

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r (load $(cut -d' ' -f1 /proc/loadavg))"
  for mode in assign group; do
    timed "kcat $mode" "kcat_$mode"
    if [ "$mode" = assign ]; then
      echo "    kcat read $(cat "$work"/kcat.{pin,geo,user} | paste -sd+ | bc) records"
      timed "python $mode" python_raw
      timed "pinstream $mode" pinstream_source all
    else
      echo "    kcat read $(cat "$work/kcat.all") records"
      timed "python $mode" python_raw --group
      timed "pinstream $mode" pinstream_source group
    fi
  done
done
echo "medians over $ROUNDS rounds, process start to exit ($((POSTS * 3)) records):"
for k in "kcat assign" "python assign" "pinstream assign" "kcat group" "python group" "pinstream group"; do
  m=$(printf '%s\n' ${T[$k]} | median)
  printf '  %-18s %6.3f s  %8.0f records/s   (rounds: %s)\n' "$k" "$m" \
    "$(awk -v n="$((POSTS * 3))" -v t="$m" 'BEGIN { print n / t }')" "${T[$k]}"
done

# The hand-written alternative: confluent-kafka + pandas reading, cleaning, joining, one aggregate.
/usr/bin/python3 bench/kafka/python_consumer.py "$PINSTREAM_KAFKA" "$PINSTREAM_ID"
# The whole pipeline over these topics: bench/kafka/e2e.sh (realistic input, against files).
