#!/usr/bin/python3
"""CPU per pipeline stage from a perf profile with call graphs.

  perf record -F 999 --call-graph dwarf,32768 -o perf.data -- build/pinstream run ...
  perf script -i perf.data -F comm,tid,ip,sym,dso | bench/e2e/stages.py [CPU_MS]

Each sample is counted once, under the stage of the frame nearest its leaf that names one
(so snappy called by the Parquet writer is "compress", a memcpy in the join is "join").
With CPU_MS (the run's process CPU, e.g. the stop line's cpu_ms) it prints milliseconds.
"""
import sys

# (stage, substrings of a frame's symbol), tried on each frame from the leaf up.
RULES = [
    ("compress (snappy)", ("snappy::",)),
    ("fsync", ("fsync", "fdatasync", "sync_file_range")),
    ("dead letters (SHA-256 of cut lines)", ("Sha256", "sha256", "DeadLetter", "dead_letter")),
    ("JSON decode", ("simdjson", "JsonDecoder")),
    ("Parquet encode", ("connectors::parquet",)),
    ("Delta log", ("connectors::delta",)),
    ("dedup", ("KeySet", "Dedup", "dedup")),
    ("join", ("state::Join",)),
    ("aggregate", ("state::Aggregates", "GroupState", "Windows")),
    ("state write (RocksDB)", ("rocksdb", "StateStore", "pinstream::state::")),
    ("clean", ("pinstream::transforms::", "core::coerce", "parse_timestamp")),
    ("read (files source)", ("connectors::files", "LineReader", "FilePartition")),
    ("read (Kafka source, librdkafka)", ("connectors::kafka", "librdkafka")),
    ("checkpoint", ("Checkpoint", "checkpoint")),
    ("engine (handoff, rows, staging)", ("pinstream::runtime::", "IngestThread")),
    ("start-up (loader, config)", ("_dl_", "YAML", "dl_main", "CLI::")),
]


def classify(frames):
    for sym in frames:
        for stage, keys in RULES:
            if any(k in sym for k in keys):
                return stage
    return "other (malloc/free, libc, kernel outside a stage)"


def main():
    cpu_ms = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    counts, total, frames = {}, 0, None
    for line in sys.stdin:
        if not line.strip():
            if frames is not None:
                s = classify(frames)
                counts[s] = counts.get(s, 0) + 1
                total += 1
            frames = None
        elif not line[0].isspace():
            frames = []
        elif frames is not None:
            parts = line.split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "")
    if frames:
        s = classify(frames)
        counts[s] = counts.get(s, 0) + 1
        total += 1
    print("| stage | samples | share | CPU ms |")
    print("|---|---|---|---|")
    for s, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        ms = "%.0f" % (cpu_ms * n / total) if cpu_ms else ""
        print("| %s | %d | %.1f%% | %s |" % (s, n, 100.0 * n / total, ms))
    print("| total | %d | 100%% | %s |" % (total, "%.0f" % cpu_ms if cpu_ms else ""))


if __name__ == "__main__":
    main()
