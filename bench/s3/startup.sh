#!/usr/bin/env bash
# Start-up bench: the time from `pinstream run` starting to "Query socket listening." (the
# engine open: the tables root's owner claim, the 9 tables opened, the state/table check,
# checkpoint 0) with the default pipeline's tables and checkpoints on s3rver. Two builds
# alternate (BIN_A, BIN_B), each round a fresh start (empty bucket prefix and data dir) and
# a restart over what it wrote. The input is tiny (200 posts): the run after the socket
# opens is not measured. Prints each start with the S3 requests sent before the socket
# opened (both stores; `--log-level trace` logs each request), the medians, the load.
# Usage: BIN_A=... BIN_B=... bench/s3/startup.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
BIN_A=${BIN_A:?BIN_A=path of a pinstream build}
BIN_B=${BIN_B:-$PWD/build/pinstream}
OUT=$PWD/bench/out/s3-startup
. bench/lib.sh
mkdir -p "$OUT"
[ -d "$OUT/raw/topics" ] ||
  "$BIN_B" emulate --count 200 --seed 7 --sink files --out "$OUT/raw" >/dev/null
start_s3rver "$OUT/s3rver"
trap 'kill $S3PID 2>/dev/null || true' EXIT

# Milliseconds from the launch to the log line "Query socket listening." (UTC timestamps).
start_ms() {  # $1 = binary, $2 = log, $3 = prefix
  local t0 line
  t0=$(date -u +%s%3N)
  env PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw" PINSTREAM_DATA="$OUT/data-$3" \
    PINSTREAM_TABLES="s3://bench/$3/tables" PINSTREAM_CHECKPOINTS="s3://bench/$3/checkpoints" \
    "$1" --log-level trace run --config examples/pinterest/pipeline.yaml --until-idle >"$2" 2>&1 ||
    { echo "run failed:"; tail -5 "$2"; exit 1; }
  line=$(grep -m1 "Query socket listening" "$2" | cut -d" " -f1)
  echo "$(( $(date -u -d "${line/T/ }" +%s%3N) - t0 )) ms," \
    "$(awk '/Query socket listening/ {exit} /S3 request\. / {n++} END {print n+0}' "$2") requests"
}
declare -A FRESH RESTART
for r in $(seq 1 "$ROUNDS"); do
  for b in A B; do
    bin=BIN_$b
    rm -rf "$OUT/data-$b$r"
    f=$(start_ms "${!bin}" "$OUT/fresh-$b.log" "$b$r")
    s=$(start_ms "${!bin}" "$OUT/restart-$b.log" "$b$r")
    FRESH[$b]+="${f%% *} "; RESTART[$b]+="${s%% *} "
    echo "round $r $b: fresh ${f}; restart ${s}; load $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$OUT/data-$b$r" "$OUT/s3rver/bench/$b$r"
  done
done
for b in A B; do
  echo "$b: fresh median $(printf '%s\n' ${FRESH[$b]} | median) ms," \
    "restart median $(printf '%s\n' ${RESTART[$b]} | median) ms"
done
