#!/usr/bin/env bash
# End-to-end bench: N emulated posts as S3-sink files, then `pinstream run --until-idle`
# (tables + views + checkpoints, exactly-once epochs) timed over several rounds, alternating
# with DuckDB doing the same batch job when bench/e2e/duckdb_job.js is present.
# Prints per-round times, medians, raw records/s and pinstream's peak RSS.
# Usage: bench/e2e/run.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-200000}
ROUNDS=${2:-3}
BIN=build/pinstream
OUT=bench/out/e2e-$POSTS
mkdir -p "$OUT"
if [ ! -d "$OUT/raw/topics" ]; then
  echo "generating $POSTS posts into $OUT/raw"
  $BIN emulate --count "$POSTS" --seed 7 --sink files --out "$OUT/raw" >/dev/null
fi
RECORDS=$(cat "$OUT"/raw/topics/*/*/*.json | wc -l)
BYTES=$(du -sb "$OUT/raw" | cut -f1)
echo "input: $RECORDS raw records, $((BYTES / 1048576)) MiB"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
A=(); B=(); RSS=(); ENC=()
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$OUT/data"
  /usr/bin/time -v -o "$OUT/time.log" env PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw" \
    PINSTREAM_DATA="$OUT/data" $BIN run --config examples/pinterest/pipeline.yaml --until-idle \
    >"$OUT/run.log" 2>&1
  secs=$(grep "Elapsed (wall clock)" "$OUT/time.log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$OUT/time.log" | awk '{print $NF}')
  # The stop line: process CPU time and the part all threads spent encoding table files.
  enc=$(grep -o 'table_encode_share=[0-9.]*' "$OUT/run.log" | cut -d= -f2)
  cpu=$(grep -o ' cpu_ms=[0-9]*' "$OUT/run.log" | cut -d= -f2)
  A+=("$secs"); RSS+=("$rss"); ENC+=("$enc")
  line="round $r: pinstream ${secs}s ($(awk -v n="$RECORDS" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') rec/s, peak RSS $((rss / 1024)) MiB, CPU ${cpu} ms of which table encoding ${enc}%)"
  if [ -f bench/e2e/duckdb_job.js ]; then
    rm -rf "$OUT/duck"
    t0=$(date +%s.%N)
    NODE_PATH=.tools/node/node_modules node bench/e2e/duckdb_job.js "$OUT/raw" "$OUT/duck" >"$OUT/duck.log" 2>&1
    t1=$(date +%s.%N)
    d=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    B+=("$d")
    line="$line; duckdb ${d}s"
  fi
  echo "$line"
done
ma=$(printf '%s\n' "${A[@]}" | median)
echo "pinstream median: ${ma}s, $(awk -v n="$RECORDS" -v s="$ma" 'BEGIN{printf "%.0f", n/s}') raw records/s, peak RSS max $(( $(printf '%s\n' "${RSS[@]}" | sort -n | tail -1) / 1024 )) MiB, table encoding median $(printf '%s\n' "${ENC[@]}" | median)% of CPU"
if [ ${#B[@]} -gt 0 ]; then
  mb=$(printf '%s\n' "${B[@]}" | median)
  echo "duckdb median: ${mb}s; ratio B/A = $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
fi
