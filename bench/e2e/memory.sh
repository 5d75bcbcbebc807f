#!/usr/bin/env bash
# Peak RSS of the files run (`run --until-idle`, default pipeline) for several variants,
# alternating round by round on the same input (bench/e2e/run.sh's, generated there).
# A variant is NAME=BIN[,VAR=VALUE...]: a binary and environment variables for its run
# (e.g. `arena1=build/pinstream,PINSTREAM_MALLOC_ARENAS=1`). Prints per run wall, CPU
# (user + sys, and sys alone), peak RSS (/usr/bin/time -v) and the 1-minute load, then per variant the
# medians and the range of peak RSS.
# Usage: bench/e2e/memory.sh POSTS ROUNDS VARIANT...
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
POSTS=$1; ROUNDS=$2; shift 2
IN=bench/out/e2e-$POSTS-realistic
[ -d "$IN/raw/topics" ] || { echo "no input in $IN: run bench/e2e/run.sh $POSTS 1 first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wall() { grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' |
         awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
rss() { grep "Maximum resident set size" "$1" | awk '{print int($NF / 1024)}'; }
declare -A W C R
for r in $(seq 1 "$ROUNDS"); do
  for v in "$@"; do
    name=${v%%=*}; spec=${v#*=}; IFS=, read -r -a parts <<<"$spec"
    bin=${parts[0]}; envs=("${parts[@]:1}")
    rm -rf "$work/data"
    la=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v -o "$work/time.log" env "${envs[@]}" PINSTREAM_SOURCE=files \
      PINSTREAM_FILES="$IN/raw" PINSTREAM_DATA="$work/data" "$bin" run \
      --config examples/pinterest/pipeline.yaml --until-idle >"$work/run.log" 2>&1 ||
      { tail -5 "$work/run.log"; exit 1; }
    w=$(wall "$work/time.log"); c=$(cpu "$work/time.log"); m=$(rss "$work/time.log")
    W[$name]+="$w "; C[$name]+="$c "; R[$name]+="$m "
    sys=$(awk -F': ' '/System time/ {print $2}' "$work/time.log")
    printf 'round %d %-12s %6.2f s  CPU %6.2f s (sys %5.2f)  peak RSS %4d MiB  load %s\n' "$r" \
      "$name" "$w" "$c" "$sys" "$m" "$la"
  done
done
echo "medians over $ROUNDS rounds, $POSTS posts:"
for v in "$@"; do
  name=${v%%=*}
  printf '  %-12s wall %6.2f s  CPU %6.2f s  peak RSS median %5s MiB (%s)\n' "$name" \
    "$(printf '%s\n' ${W[$name]} | median)" "$(printf '%s\n' ${C[$name]} | median)" \
    "$(printf '%s\n' ${R[$name]} | median)" "$(printf '%s\n' ${R[$name]} | sort -n | tr '\n' ' ' | sed 's/ $//')"
done
