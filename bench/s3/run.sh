#!/usr/bin/env bash
# Object-storage bench: the same N emulated posts (S3-sink files) run by `pinstream run
# --until-idle` with its tables and checkpoints on the local disk, then on s3rver
# (PINSTREAM_TABLES and PINSTREAM_CHECKPOINTS = s3://...), alternating, several rounds.
# The input stays local in both, so the difference is what writing to the store costs.
# Prints per-round wall times, the medians, their ratio and the bytes written to the bucket
# per second of the S3 run. s3rver (node) runs on the same machine and its CPU time is part
# of the S3 figure: on 2 cores it competes with pinstream's threads.
# Also per round: pinstream's CPU (user+sys) in both runs, s3rver's CPU during the S3 run
# (/proc/<pid>/stat utime+stime), the final checkpoint's upload time and the requests each
# S3 store sent (their log lines). BIN=... runs another build; LOG_LEVEL=debug adds the
# per-epoch timings (parquet_ms includes the table uploads, delta_ms the commits).
# Usage: bench/s3/run.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-200000}
ROUNDS=${2:-3}
BIN=${BIN:-$PWD/build/pinstream}
LOG_LEVEL=${LOG_LEVEL:-info}
OUT=$PWD/bench/out/s3-$POSTS
. bench/lib.sh
mkdir -p "$OUT"
if [ ! -d "$OUT/raw/topics" ]; then
  echo "generating $POSTS posts into $OUT/raw"
  "$BIN" emulate --count "$POSTS" --seed 7 --sink files --out "$OUT/raw" >/dev/null
fi
RECORDS=$(cat "$OUT"/raw/topics/*/*/*.json | wc -l)
echo "input: $RECORDS raw records, $(( $(du -sb "$OUT/raw" | cut -f1) / 1048576 )) MiB (local files)"

start_s3rver "$OUT/s3rver"
trap 'kill $S3PID 2>/dev/null || true' EXIT

cpu_of() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
# utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks).
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
secs_of() { grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' |
  awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
run_one() {  # $1 = label, then env assignments
  local label=$1; shift
  rm -rf "$OUT/data"
  /usr/bin/time -v -o "$OUT/time.log" env PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw" \
    PINSTREAM_DATA="$OUT/data" "$@" "$BIN" --log-level "$LOG_LEVEL" run \
    --config examples/pinterest/pipeline.yaml --until-idle >"$OUT/run-$label.log" 2>&1 ||
    { echo "$label run failed:"; tail -5 "$OUT/run-$label.log"; exit 1; }
  cpu_of "$OUT/time.log" >"$OUT/cpu-$label"
  secs_of "$OUT/time.log"
}
L=(); S=(); MBS=()
for r in $(seq 1 "$ROUNDS"); do
  l=$(run_one local)
  prefix="r$r"
  c0=$(proc_cpu $S3PID)
  s=$(run_one s3 PINSTREAM_TABLES="s3://bench/$prefix/tables" \
    PINSTREAM_CHECKPOINTS="s3://bench/$prefix/checkpoints")
  s3cpu=$(awk -v a="$c0" -v b="$(proc_cpu $S3PID)" 'BEGIN{printf "%.2f", b - a}')
  bytes=$(du -sb "$OUT/s3rver/bench" | cut -f1)
  rm -rf "$OUT/s3rver/bench"/*
  mbs=$(awk -v b="$bytes" -v s="$s" 'BEGIN{printf "%.1f", b/1048576/s}')
  L+=("$l"); S+=("$s"); MBS+=("$mbs")
  echo "round $r: local ${l}s; s3rver ${s}s ($(( bytes / 1048576 )) MiB into the bucket, ${mbs} MiB/s)"
  echo "  cpu: pinstream local $(cat "$OUT/cpu-local")s, s3 $(cat "$OUT/cpu-s3")s;" \
    "s3rver ${s3cpu}s; load $(cut -d' ' -f1-3 /proc/loadavg)"
  grep -h "Checkpoint uploaded\|S3 requests" "$OUT/run-s3.log" | tail -3 |
    sed -e 's/^[^ ]* [^ ]* /  /' -e 's/ store=s3:\/\/bench\/r[0-9]*\// store=/'
done
ml=$(printf '%s\n' "${L[@]}" | median); ms=$(printf '%s\n' "${S[@]}" | median)
echo "local median ${ml}s ($(awk -v n="$RECORDS" -v s="$ml" 'BEGIN{printf "%.0f", n/s}') rec/s);" \
  "s3rver median ${ms}s ($(awk -v n="$RECORDS" -v s="$ms" 'BEGIN{printf "%.0f", n/s}') rec/s);" \
  "ratio S3/local $(awk -v a="$ml" -v b="$ms" 'BEGIN{printf "%.2f", b/a}');" \
  "bucket writes median $(printf '%s\n' "${MBS[@]}" | median) MiB/s"
