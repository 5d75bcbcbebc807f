#!/usr/bin/env python3
"""Replays a local Delta table's log commit by commit (every commit file must still be there:
the soak never reaches the 30-day log retention) and prints, for SPEC section 5's bound
(live files < min_files + data / target): the most live files at any version and where, the
versions at or above the bound, the OPTIMIZE commits, and the write amplification (bytes
compaction removed, i.e. read and rewrote, over bytes the epochs added).
With UPTO (versions, comma-separated: the soak's samples), also the most live files and the
write amplification up to each of those versions.
Usage: live_files.py TABLE_DIR [MIN_FILES] [TARGET_BYTES] [UPTO]   (defaults 32, 134217728)"""
import json, os, sys

table = sys.argv[1]
min_files = int(sys.argv[2]) if len(sys.argv) > 2 else 32
target = int(sys.argv[3]) if len(sys.argv) > 3 else 128 << 20
upto = sorted(int(v) for v in sys.argv[4].split(",") if v) if len(sys.argv) > 4 else []
at_upto = {}
log = os.path.join(table, "_delta_log")
versions = sorted(int(f[:20]) for f in os.listdir(log) if f.endswith(".json") and len(f) == 25)
if not versions or versions[0] != 0 or versions[-1] != len(versions) - 1:
    sys.exit(f"{log}: commits missing (log cleanup ran?): cannot replay every version")
live = {}
most, most_at, over, optimizes, written, rewritten = 0, 0, 0, 0, 0, 0
for v in versions:
    optimize = False
    with open(os.path.join(log, f"{v:020d}.json")) as f:
        actions = [json.loads(line) for line in f if line.strip()]
    for a in actions:
        if "commitInfo" in a and a["commitInfo"].get("operation") == "OPTIMIZE":
            optimize = True
    for a in actions:
        if "add" in a:
            live[a["add"]["path"]] = a["add"]["size"]
            if not optimize:
                written += a["add"]["size"]
        elif "remove" in a:
            size = live.pop(a["remove"]["path"], a["remove"].get("size", 0))
            if optimize:
                rewritten += size
    optimizes += optimize
    n, data = len(live), sum(live.values())
    if n > most:
        most, most_at = n, v
    if n * target >= min_files * target + data:
        over += 1
    for u in upto:
        if v <= u:
            at_upto[u] = {"max_live": most, "write_amplification":
                          round(rewritten / written, 2) if written else 0}
print(json.dumps({"table": os.path.basename(table.rstrip("/")), "versions": len(versions),
                  "live": len(live), "max_live": most, "max_live_version": most_at,
                  "versions_over_bound": over, "optimize_commits": optimizes,
                  "written_bytes": written, "rewritten_bytes": rewritten,
                  "write_amplification": round(rewritten / written, 2) if written else 0,
                  "upto": at_upto}))
