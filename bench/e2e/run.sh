#!/usr/bin/env bash
# End-to-end bench: N posts as S3-sink files, then `pinstream run --until-idle` (tables +
# views + checkpoints, exactly-once epochs) timed over several rounds, alternating with DuckDB
# doing the same batch job when bench/e2e/duckdb_job.js is present.
# INPUT=realistic (default): bench/gen/realistic.py, field values from the real rows of
#   ../shared/data, 15% re-posts, 0.5% malformed records, event times moving forward.
# INPUT=synthetic: `pinstream emulate` (generated text, 10% re-posts, no malformed records).
# Prints per-round wall time, user+sys CPU and the 1-minute load average (other work on the
# machine makes wall times noisy: compare CPU then), medians, raw records/s, peak RSS, and
# checks that the dead-letter share matches the malformed share the generator put in.
# Usage: [INPUT=realistic|synthetic] [BIN=build/pinstream] bench/e2e/run.sh [POSTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${1:-200000}
ROUNDS=${2:-3}
INPUT=${INPUT:-realistic}
BIN=${BIN:-build/pinstream}
OUT=bench/out/e2e-$POSTS-$INPUT
mkdir -p "$OUT"
if [ ! -d "$OUT/raw/topics" ]; then
  echo "generating $POSTS $INPUT posts into $OUT/raw"
  case "$INPUT" in
    realistic) /usr/bin/python3 bench/gen/realistic.py --posts "$POSTS" --seed 7 --out "$OUT/raw" \
                 >"$OUT/input.json" ;;
    synthetic) $BIN emulate --count "$POSTS" --seed 7 --sink files --out "$OUT/raw" >/dev/null ;;
    *) echo "INPUT must be realistic or synthetic" >&2; exit 2 ;;
  esac
fi
RECORDS=$(cat "$OUT"/raw/topics/*/*/*.json | wc -l)
BYTES=$(du -sb "$OUT/raw" | cut -f1)
MALFORMED=0
if [ -f "$OUT/input.json" ]; then
  MALFORMED=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(sum(s["malformed"] for s in d["streams"].values()))' "$OUT/input.json")
fi
echo "input ($INPUT): $RECORDS raw records, $(awk -v b="$BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB" \
     "($((BYTES / 1048576)) MiB), $MALFORMED malformed records put in"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wall() { grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' |
         awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
load() { cut -d' ' -f1 /proc/loadavg; }
A=(); AC=(); B=(); BC=(); RSS=(); BRSS=(); ENC=()
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$OUT/data"
  la=$(load)
  /usr/bin/time -v -o "$OUT/time.log" env PINSTREAM_SOURCE=files PINSTREAM_FILES="$OUT/raw" \
    PINSTREAM_DATA="$OUT/data" $BIN run --config examples/pinterest/pipeline.yaml --until-idle \
    >"$OUT/run.log" 2>&1
  secs=$(wall "$OUT/time.log"); c=$(cpu "$OUT/time.log")
  rss=$(grep "Maximum resident set size" "$OUT/time.log" | awk '{print $NF}')
  # The stop line: the part of the CPU all threads spent encoding table files.
  enc=$(grep -o 'table_encode_share=[0-9.]*' "$OUT/run.log" | cut -d= -f2)
  A+=("$secs"); AC+=("$c"); RSS+=("$rss"); ENC+=("$enc")
  line="round $r: pinstream ${secs}s CPU ${c}s load ${la} ($(awk -v n="$RECORDS" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') rec/s, peak RSS $((rss / 1024)) MiB, table encoding ${enc}% of CPU)"
  if [ -f bench/e2e/duckdb_job.js ]; then
    rm -rf "$OUT/duck"
    la=$(load)
    /usr/bin/time -v -o "$OUT/duck-time.log" env NODE_PATH=.tools/node/node_modules \
      node bench/e2e/duckdb_job.js "$OUT/raw" "$OUT/duck" >"$OUT/duck.log" 2>&1
    d=$(wall "$OUT/duck-time.log"); dc=$(cpu "$OUT/duck-time.log")
    drss=$(grep "Maximum resident set size" "$OUT/duck-time.log" | awk '{print $NF}')
    B+=("$d"); BC+=("$dc"); BRSS+=("$drss")
    line="$line; duckdb ${d}s CPU ${dc}s load ${la} (peak RSS $((drss / 1024)) MiB)"
  fi
  echo "$line"
done
# What the last run counted: dead letters must be the malformed records the generator wrote.
PINSTREAM_DATA="$OUT/data" $BIN query --config examples/pinterest/pipeline.yaml --stats \
  --format json >"$OUT/stats.json" 2>/dev/null || true
python3 - "$OUT/stats.json" "$MALFORMED" "$RECORDS" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))["streams"]
want, records = int(sys.argv[2]), int(sys.argv[3])
t = {k: sum(v[k] for v in s.values()) for k in ("read", "clean", "dead", "duplicates", "late")}
print("counted: read %(read)d, clean %(clean)d, duplicates %(duplicates)d, late %(late)d, "
      "dead letters %(dead)d" % t, "(%.2f%% of records read; %d malformed put in: %s)" %
      (100.0 * t["dead"] / max(t["read"], 1), want, "match" if t["dead"] == want else "MISMATCH"))
PY
ma=$(printf '%s\n' "${A[@]}" | median); mac=$(printf '%s\n' "${AC[@]}" | median)
echo "pinstream median: ${ma}s (CPU ${mac}s), $(awk -v n="$RECORDS" -v s="$ma" 'BEGIN{printf "%.0f", n/s}') raw records/s, $(awk -v b="$BYTES" -v s="$ma" 'BEGIN{printf "%.0f", b/1e6/s}') MB/s, peak RSS max $(( $(printf '%s\n' "${RSS[@]}" | sort -n | tail -1) / 1024 )) MiB, table encoding median $(printf '%s\n' "${ENC[@]}" | median)% of CPU"
if [ ${#B[@]} -gt 0 ]; then
  mb=$(printf '%s\n' "${B[@]}" | median); mbc=$(printf '%s\n' "${BC[@]}" | median)
  echo "duckdb median: ${mb}s (CPU ${mbc}s), peak RSS max $(( $(printf '%s\n' "${BRSS[@]}" | sort -n | tail -1) / 1024 )) MiB"
  echo "ratio duckdb/pinstream: wall $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}'), CPU $(awk -v a="$mac" -v b="$mbc" 'BEGIN{printf "%.2f", b/a}')"
fi
