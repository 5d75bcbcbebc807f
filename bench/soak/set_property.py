#!/usr/bin/env python3
"""Sets a table property on every Delta table under a local tables root, as Spark's
ALTER TABLE ... SET TBLPROPERTIES does: a commit holding the latest metaData with the
property added to its configuration. The commit is created with link() (fails when the
version is taken), so a daemon committing at the same time just retries at the next
version; on a lost race this re-reads the log and tries the next version.
Usage: set_property.py TABLES_ROOT KEY VALUE   (waits up to 60 s for the tables to exist)"""
import json, os, sys, time, uuid

root, key, value = sys.argv[1], sys.argv[2], sys.argv[3]


def commits(log):
    return sorted(int(f[:20]) for f in os.listdir(log) if f.endswith(".json") and len(f) == 25)


def latest_metadata(log):
    meta = None
    for v in commits(log):  # a young table: every commit is still there (no cleanup yet)
        with open(os.path.join(log, f"{v:020d}.json")) as f:
            for line in f:
                if line.strip() and "metaData" in json.loads(line):
                    meta = json.loads(line)["metaData"]
    return meta


def set_property(log):
    for _ in range(1000):
        meta = latest_metadata(log)
        meta.setdefault("configuration", {})[key] = value
        info = {"timestamp": int(time.time() * 1000), "operation": "SET TBLPROPERTIES",
                "operationParameters": {"properties": json.dumps({key: value})}}
        text = json.dumps({"commitInfo": info}) + "\n" + json.dumps({"metaData": meta}) + "\n"
        tmp = os.path.join(log, f".tmp-{uuid.uuid4()}")
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, os.path.join(log, f"{commits(log)[-1] + 1:020d}.json"))
            return
        except FileExistsError:
            continue
        finally:
            os.unlink(tmp)
    sys.exit(f"gave up setting {key} on {log}")


deadline = time.time() + 60
while time.time() < deadline:
    logs = [os.path.join(root, t, "_delta_log") for t in sorted(os.listdir(root))] \
        if os.path.isdir(root) else []
    logs = [l for l in logs if os.path.isfile(os.path.join(l, f"{0:020d}.json"))]
    if len(logs) >= 3:
        time.sleep(2)  # every table of the pipeline is created at start, together
        logs = [os.path.join(root, t, "_delta_log") for t in sorted(os.listdir(root))]
        for l in logs:
            if os.path.isfile(os.path.join(l, f"{0:020d}.json")):
                set_property(l)
                print(f"    {os.path.basename(os.path.dirname(l))}: {key} = {value}")
        sys.exit(0)
    time.sleep(0.5)
sys.exit("no tables appeared under " + root)
