#!/usr/bin/env bash
# Soak bench (table upkeep, SPEC section 5): the default pipeline at 10 epochs/s (epoch
# interval 100 ms) over a Kafka trickle through the dev broker (`pinstream broker`,
# `pinstream emulate --rate`), for EPOCHS epochs. Every SAMPLE epochs it prints, per table,
# the live file count and bytes, the _delta_log's file count and bytes; and the daemon's
# RSS and the epoch length (mean and p99 from /metrics, over the last sample's epochs).
# Auto-compaction and log cleanup run as configured by default (min_files 32). At the end,
# live_files.py replays each table's log: the most live files at ANY version up to each
# sample (not only at the samples) and the write amplification (bytes compaction rewrote
# over bytes epochs wrote).
# Tombstones: Delta keeps a removed file's tombstone in every checkpoint for
# `delta.deletedFileRetentionDuration` (7 days), which a compressed day never reaches. So the
# script sets that table property on every table once the daemon has created them, as
# Spark's ALTER TABLE ... SET TBLPROPERTIES would (a metaData commit), to TOMBSTONES
# (default `interval 10 minutes`), so that the soak reaches the steady state of a real
# daemon; TOMBSTONES= (empty) keeps Delta's 7 days.
# Usage: bench/soak/run.sh [EPOCHS] [SAMPLE]      (defaults 20000, 2000; 20000 = ~35 min)
#   RATE=20/s (posts/s)  BUILD_DIR=build  OUT=bench/out/soak  TOMBSTONES='interval 10 minutes'
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-20000}
SAMPLE=${2:-2000}
RATE=${RATE:-20/s}
TOMBSTONES=${TOMBSTONES-interval 10 minutes}
BIN=$PWD/${BUILD_DIR:-build}/pinstream
OUT=${OUT:-$PWD/bench/out/soak}
rm -rf "$OUT" && mkdir -p "$OUT"
export PINSTREAM_ID="soak$$" PINSTREAM_DATA="$OUT/data"
PORT=$(( 20000 + RANDOM % 20000 ))
export PINSTREAM_HTTP="127.0.0.1:$PORT"
pids=()
daemon=
# The daemon first (its stop leaves the Kafka group: the broker must still be up), then the rest.
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon";
      for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait' EXIT

# The shipped pipeline with a 100 ms epoch; everything else as shipped.
sed 's/^  epoch_interval_ms: .*/  epoch_interval_ms: 100/' examples/pinterest/pipeline.yaml \
  >"$OUT/pipeline.yaml"
grep -q 'epoch_interval_ms: 100$' "$OUT/pipeline.yaml" || { echo "epoch interval not set" >&2; exit 2; }

"$BIN" broker --partitions 3 >"$OUT/broker.out" 2>"$OUT/broker.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$OUT/broker.out" ] && break; sleep 0.1; done
export PINSTREAM_KAFKA=$(head -1 "$OUT/broker.out")
"$BIN" emulate --rate "$RATE" --timestamps now --sink kafka --brokers "$PINSTREAM_KAFKA" \
  >"$OUT/emulate.out" 2>&1 &
pids+=($!)
"$BIN" run --config "$OUT/pipeline.yaml" >"$OUT/run.log" 2>&1 &
daemon=$!
pids+=("$daemon")
echo "soak: $EPOCHS epochs of 100 ms, $RATE posts through $PINSTREAM_KAFKA, sample every $SAMPLE"
if [ -n "$TOMBSTONES" ]; then
  python3 bench/soak/set_property.py "$OUT/data/tables" delta.deletedFileRetentionDuration \
    "$TOMBSTONES" || exit 1
fi

# One sample: /metrics (epoch, histogram) + the tables' logs read from the disk.
python3 - "$OUT" "$PORT" "$daemon" "$EPOCHS" "$SAMPLE" <<'EOF'
import json, os, re, sys, time, urllib.request
out, port, pid, epochs, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tables = os.path.join(out, "data", "tables")

def metrics():
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except Exception:
        return None
    m = {"buckets": []}
    for line in text.splitlines():
        if line.startswith("pinstream_epoch "): m["epoch"] = int(float(line.split()[1]))
        g = re.match(r'pinstream_epoch_duration_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if g: m["buckets"].append((float(g.group(1)), float(g.group(2))))
        g = re.match(r'pinstream_epoch_duration_seconds_(sum|count) (\S+)', line)
        if g: m[g.group(1)] = float(g.group(2))
    return m

def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1]) // 1024
    return -1

def api_tables():
    try:
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tables", timeout=10).read())
    except Exception:
        return None

def log_size(name):
    d = os.path.join(tables, name, "_delta_log")
    files = [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []
    return len(files), sum(os.path.getsize(f) for f in files if os.path.isfile(f))

def p99(prev, cur):
    n = cur["count"] - prev.get("count", 0)
    if n <= 0: return float("nan"), float("nan"), 0
    mean = (cur["sum"] - prev.get("sum", 0)) / n * 1000
    pb = dict(prev.get("buckets", []))
    for le, c in cur["buckets"]:
        if c - pb.get(le, 0) >= 0.99 * n: return mean, le * 1000, n
    return mean, float("inf"), n

start, prev, mark = time.time(), {}, every
samples = {}  # table -> its version at each sample, for live_files.py
while True:
    try: os.kill(pid, 0)
    except OSError: print("daemon exited: see run.log"); sys.exit(1)
    m = metrics()
    if m is None or "epoch" not in m or m["epoch"] < mark:
        time.sleep(2); continue
    mean, p, n = p99(prev, m)
    prev = m
    t = api_tables() or {}
    rows = t.get("tables", t) if isinstance(t, dict) else t
    print(f"epoch {m['epoch']:6d}  {time.time() - start:6.0f} s  RSS {rss_mib()} MiB  "
          f"epoch mean {mean:.0f} ms p99 <= {p:.0f} ms ({n} epochs)", flush=True)
    for e in rows or []:
        if not isinstance(e, dict) or "name" not in e: continue
        lf, lb = log_size(e["name"])
        samples.setdefault(e["name"], []).append(e.get("version"))
        print(f"    {e['name']:24s} v{e.get('version')!s:>6}  live files {e.get('files')!s:>4} "
              f"({(e.get('bytes') or 0) / 1024:.0f} KiB)  log {lf} files {lb / 1024:.0f} KiB", flush=True)
    if m["epoch"] >= epochs: break
    mark += every
with open(os.path.join(out, "samples.json"), "w") as f:
    json.dump(samples, f)
EOF
kill -TERM "$daemon"
wait "$daemon" || true
grep -i "compact\|clean" "$OUT/run.log" | tail -5 || true
# SPEC's bound at every version, from each table's log (defaults: 32 files, 128 MiB).
for t in pin geo user; do
  upto=$(python3 -c "import json,sys; print(','.join(str(v) for v in json.load(open(sys.argv[1])).get(sys.argv[2], []) if v is not None))" \
    "$OUT/samples.json" "$t" 2>/dev/null || true)
  python3 bench/soak/live_files.py "$OUT/data/tables/$t" 32 134217728 "$upto" || true
done
