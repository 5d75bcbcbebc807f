#!/usr/bin/env bash
# Raw Kafka consume rate: the pinstream Kafka source versus `kcat -C -e -q`, on the same
# topics of the dev broker (librdkafka mock cluster, in memory, ~5 MiB kept per partition).
#   BUILD_DIR=build-kafka POSTS=20000 bench/kafka/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
POSTS=${POSTS:-30000}      # the mock keeps ~5 MiB per partition: stay under it
PARTITIONS=${PARTITIONS:-3}
BROKERS=${BROKERS:-3}   # leaders spread over brokers: one fetch thread each in every consumer
BIN="$BUILD_DIR/pinstream"
TEST="$BUILD_DIR/tests/integration/kafka/kafka_integration_test"
export PINSTREAM_ID="bench$$"
work=$(mktemp -d)
trap 'kill "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT

"$BIN" broker --partitions "$PARTITIONS" --brokers "$BROKERS" >"$work/broker.out" 2>"$work/broker.err" &
broker=$!
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
export PINSTREAM_KAFKA=$(head -1 "$work/broker.out")
echo "broker $PINSTREAM_KAFKA ($BROKERS brokers), $POSTS posts, $PARTITIONS partitions per topic"
"$BIN" emulate --count "$POSTS" --sink kafka --brokers "$PINSTREAM_KAFKA" --duplicates-rate 0.1

# kcat reads each topic from the beginning to its end (assign, no group), payloads to wc.
start=$(date +%s.%N)
records=0
bytes=0
for s in pin geo user; do
  read -r n b < <(kcat -b "$PINSTREAM_KAFKA" -C -e -q -o beginning -t "$PINSTREAM_ID.$s" | wc -lc)
  records=$((records + n))
  bytes=$((bytes + b - n))
done
end=$(date +%s.%N)
awk -v r="$records" -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
  t = e - s; printf "kcat -C -e -q:           %d records, %.1f MB in %.2f s: %.0f records/s, %.1f MB/s\n", r, b / 1e6, t, r / t, b / 1e6 / t }'

# Five reads (each a new consumer group): single runs are noisy (see bench/README.md).
for _ in 1 2 3 4 5; do
  "$TEST" --gtest_also_run_disabled_tests --gtest_filter='KafkaConsumeRate.*' | grep '^pinstream kafka source'
done

# The hand-written alternative: confluent-kafka + pandas reading, cleaning, joining, one aggregate.
/usr/bin/python3 bench/kafka/python_consumer.py "$PINSTREAM_KAFKA" "$PINSTREAM_ID"

# The whole pipeline over the same topics (clean, dedup, join, aggregates, Delta tables,
# checkpoints): the job the Python consumer does a part of.
start=$(date +%s.%N)
PINSTREAM_SOURCE=kafka PINSTREAM_DATA="$work/data" /usr/bin/time -f "%M" -o "$work/rss" \
  "$BIN" run --config examples/pinterest/pipeline.yaml --until-idle >"$work/run.log" 2>&1
end=$(date +%s.%N)
awk -v r="$((POSTS * 3))" -v s="$start" -v e="$end" -v rss="$(cat "$work/rss")" 'BEGIN {
  t = e - s; printf "pinstream run --until-idle (kafka): %d records in %.2f s (group join included): %.0f records/s, peak RSS %d MiB\n", r, t, r / t, rss / 1024 }'
