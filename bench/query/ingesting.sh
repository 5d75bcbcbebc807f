#!/usr/bin/env bash
# Live query latency while the daemon ingests at full speed: for each client count, a fresh
# daemon (`pinstream run`, files source) starts on the realistic 200k-post input
# (bench/gen/realistic.py, as bench/e2e/run.sh makes it), and as soon as it has committed
# its first epoch (before it, every view is empty and cheap to answer) C clients (build/bench/query_latency, C++, each on its own connection) send requests back
# to back, 6 views in rotation. The stats after the clients finished say how much of the
# input the daemon had read by then (the load must end while it still ingests). Client
# counts alternate across ROUNDS; the median of the rounds' p50 and p99 is printed.
#   [CLIENTS="1 16 64"] [REQUESTS="1:4000 16:400 64:100"] bench/query/ingesting.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-200000}
ROUNDS=${2:-3}
CLIENTS=${CLIENTS:-1 16 64}
REQUESTS=${REQUESTS:-1:20000 16:2000 64:500}  # per client: each load lasts a second or two
BIN=${BIN:-build/pinstream}
CLIENT=${CLIENT:-build/bench/query_latency}
RAW=bench/out/e2e-$POSTS-realistic/raw
if [ ! -d "$RAW/topics" ]; then
  mkdir -p "$(dirname "$RAW")"
  /usr/bin/python3 bench/gen/realistic.py --posts "$POSTS" --seed 7 --out "$RAW" \
    >"$(dirname "$RAW")/input.json"
fi
RECORDS=$(cat "$RAW"/topics/*/*/*.json | wc -l)
work=$(mktemp -d)
daemon=
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
stat_read() {
  $BIN query --socket "$work/data/pinstream.sock" --stats 2>/dev/null |
    python3 -c 'import json,sys; print(sum(v["read"] for v in json.load(sys.stdin)["streams"].values()))' \
    2>/dev/null || echo 0
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A P50 P99
echo "input: $RECORDS raw records; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for c in $CLIENTS; do
    n=$(printf '%s\n' $REQUESTS | awk -F: -v c="$c" '$1 == c {print $2}'); n=${n:-200}
    rm -rf "$work/data"
    PINSTREAM_SOURCE=files PINSTREAM_FILES="$RAW" PINSTREAM_DATA="$work/data" \
      $BIN run --config examples/pinterest/pipeline.yaml >"$work/run.log" 2>&1 &
    daemon=$!
    for _ in $(seq 1000); do
      [ "$(stat_read)" != 0 ] && break
      sleep 0.01
    done
    before=$(stat_read); la=$(cut -d' ' -f1 /proc/loadavg)
    out=$($CLIENT "$work/data/pinstream.sock" "$c" "$n" 0) || true  # errors are in its output
    after=$(stat_read)
    kill -TERM "$daemon"; wait "$daemon" || true; daemon=
    p50=$(sed -n 's/.*p50 \([0-9]*\).*/\1/p' <<<"$out"); p99=$(sed -n 's/.*p99 \([0-9]*\).*/\1/p' <<<"$out")
    P50[$c]+="$p50 "; P99[$c]+="$p99 "
    echo "round $r, $c clients: $(tr '\n' ' ' <<<"$out")| read $before -> $after of $RECORDS records during the load, load $la"
  done
done
echo "medians over $ROUNDS rounds (back to back, while ingesting):"
for c in $CLIENTS; do
  echo "  $c clients: p50 $(printf '%s\n' ${P50[$c]} | median) us, p99 $(printf '%s\n' ${P99[$c]} | median) us" \
       "(rounds p99: ${P99[$c]})"
done
