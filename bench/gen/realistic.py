#!/usr/bin/python3
"""Realistic bench input: posts whose field values are the real rows of ../shared/data.

Writes the Kafka-Connect S3-sink layout of `pinstream emulate --sink files`
(topics/<id>.<stream>/partition=<p>/<id>.<stream>+<p>+<start offset>.json, NDJSON,
p = CRC-32 of the decimal key modulo the partition count, a new file every 10,000 records
of a partition). Keys 0..N-1 each get a pin, geo and user record built from a real row of
that stream (whole rows, so the dirt keeps its real rates and correlations: placeholders,
"k"/"M" follower counts, story pins, image errors); `unique_id` is a fresh UUID per key.
On top of the N posts, a share of the posts (default 15%) re-post an earlier key,
byte-identical; a share of the records (default 0.5%) is replaced by a malformed one of the
kinds SPEC section 3 sends to dead letters. Geo event times move forward (0-2 s per post,
now and then a gap of 5 min to 3 h) with backward jitter below the pipeline's 10-minute
lateness; both datetime formats occur. Deterministic for (posts, seed). Only the standard
library.

Usage: realistic.py --posts N --out DIR [--seed S] [--dup-rate R] [--malformed-rate R]
Prints one JSON line of counts (what a run must report) on stdout.
"""
import argparse
import json
import os
import sys
import time
import zlib

MASK = (1 << 64) - 1
ROLL = 10000
STREAMS = ("pin", "geo", "user")


def mix(x):  # splitmix64, as the emulator's generator
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


class Rng:
    def __init__(self, seed):
        self.s = mix(seed ^ 0x5EED)

    def next(self):
        self.s = mix(self.s)
        return self.s

    def unit(self):
        return (self.next() >> 11) * (1.0 / (1 << 53))

    def below(self, n):
        return self.next() % n


def shared_data_dir():
    # The tests' rule (tests/support/test_support.cc): $PINSTREAM_SHARED_DATA, else the
    # repository's ../shared/data.
    env = os.environ.get("PINSTREAM_SHARED_DATA")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(os.path.dirname(repo), "shared", "data")


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


def load_rows(directory):
    """Each real row as the JSON text after its key (and after geo's timestamp)."""
    rows = {}
    for stream in STREAMS:
        out = []
        with open(os.path.join(directory, stream + ".jsonl"), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                if stream == "pin":
                    del r["index"], r["unique_id"]
                    out.append(dumps(r)[1:])  # '"title": ..., "category": "..."}'
                elif stream == "geo":
                    del r["ind"], r["timestamp"]
                    out.append(dumps(r)[1:])
                else:
                    d = r.pop("date_joined")
                    del r["ind"]
                    out.append((dumps(r)[1:-1], d))
        rows[stream] = out
    return rows


def fmt_time(t, iso):
    s = time.strftime("%Y-%m-%dT%H:%M:%S" if iso else "%Y-%m-%d %H:%M:%S", time.gmtime(t))
    return s


def post_lines(rows, seed, key, ts):
    """The three records of `key` (a pure function of seed, key and its event time)."""
    h = mix(seed * 0x100000001B3 ^ key)
    h2, h3 = mix(h), mix(h ^ 0xABCDEF)
    pin = rows["pin"][h % len(rows["pin"])]
    geo = rows["geo"][(h >> 20) % len(rows["geo"])]
    user, joined = rows["user"][(h >> 40) % len(rows["user"])]
    u = "%016x%016x" % (h2, h3)
    uid = "%s-%s-4%s-a%s-%s" % (u[:8], u[8:12], u[13:16], u[17:20], u[20:32])
    iso_geo, iso_user = (h2 >> 63) & 1, (h3 >> 63) & 1
    if not iso_user:
        joined = joined.replace("T", " ")
    return (
        '{"index": %d, "unique_id": "%s", %s' % (key, uid, pin),
        '{"ind": %d, "timestamp": "%s", %s' % (key, fmt_time(ts, iso_geo), geo),
        '{"ind": %d, %s, "date_joined": "%s"}' % (key, user, joined),
    )


def spoil(stream, line, key, rng):
    """A record cleaning must send to dead letters (SPEC section 3), as bytes."""
    name = "index" if stream == "pin" else "ind"
    kind = rng.below(8)
    if kind == 0:
        s = "{not json %d" % key
    elif kind == 1:
        s = '["an", "array", %d]' % key
    elif kind == 2:
        s = '{"unique": "no key", "row": %d}' % key
    elif kind == 3:
        s = '{"%s": "%dx"}' % (name, key)
    elif kind == 4:
        b = line.encode("utf-8")[: len(line) // 2]
        return b.decode("utf-8", "ignore").encode("utf-8")  # truncated
    elif kind == 5:
        b = line.encode("utf-8")
        return b[:-2] + b"\xc3\x28" + b[-2:]  # invalid UTF-8 inside the last string
    elif kind == 6:
        if stream == "pin":
            s = line.replace('"downloaded": ', '"downloaded": "yes", "x": ', 1)
        elif stream == "geo":
            s = line.replace('"latitude": ', '"latitude": "north", "x": ', 1)
        else:
            s = '{"ind": %d, "first_name": "A", "last_name": "B", "age": "twenty", ' \
                '"date_joined": "2016-01-01 00:00:00"}' % key
    else:
        # Over the 1 MiB record limit is rare in practice: one in 50 of this kind.
        if rng.below(50) == 0:
            s = '{"%s": %d, "pad": "%s"}' % (name, key, "x" * (1 << 20))
        else:
            s = '{"%s": %d.5}' % (name, key)  # key not an integer
    return s.encode("utf-8")


class Sink:
    def __init__(self, root, topic_id, partitions):
        self.root, self.id, self.partitions = root, topic_id, partitions
        self.parts = {}
        self.records = 0
        self.bytes = 0

    def write(self, stream, key, data):
        p = (zlib.crc32(str(key).encode()) & 0xFFFFFFFF) % self.partitions
        st = self.parts.get((stream, p))
        if st is None or st[1] >= ROLL:
            if st is not None:
                st[0].close()
            topic = "%s.%s" % (self.id, stream)
            d = os.path.join(self.root, "topics", topic, "partition=%d" % p)
            os.makedirs(d, exist_ok=True)
            offset = st[2] if st else 0
            f = open(os.path.join(d, "%s+%d+%d.json" % (topic, p, offset)), "wb")
            st = [f, 0, offset]
            self.parts[(stream, p)] = st
        st[0].write(data)
        st[0].write(b"\n")
        st[1] += 1
        st[2] += 1
        self.records += 1
        self.bytes += len(data) + 1

    def close(self):
        for st in self.parts.values():
            st[0].close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, required=True, help="distinct keys (posts)")
    ap.add_argument("--out", required=True, help="output root (topics/... under it)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dup-rate", type=float, default=0.15, help="share of posts re-posted")
    ap.add_argument("--malformed-rate", type=float, default=0.005,
                    help="share of records replaced by malformed ones")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--id", default="pinterest")
    ap.add_argument("--start", type=int, default=1640995200, help="first event time (s)")
    ap.add_argument("--data", default=shared_data_dir(), help="the real rows (*.jsonl)")
    a = ap.parse_args()
    rows = load_rows(a.data)
    rng = Rng(a.seed)
    sink = Sink(a.out, a.id, a.partitions)
    times = []  # event time of each key, so a re-post is byte-identical
    now = a.start
    counts = {s: {"records": 0, "malformed": 0, "reposts": 0} for s in STREAMS}
    while len(times) < a.posts:
        if times and rng.unit() < a.dup_rate:
            key = rng.below(len(times))
            repost = True
        else:
            key = len(times)
            now += rng.below(2001) / 1000.0
            if rng.below(1000) == 0:
                now += 300 + rng.below(3 * 3600 - 300)  # a gap in the traffic
            times.append(int(now) - (rng.below(300) if rng.below(20) == 0 else 0))
            repost = False
        for stream, line in zip(STREAMS, post_lines(rows, a.seed, key, times[key])):
            c = counts[stream]
            c["records"] += 1
            c["reposts"] += repost
            if a.malformed_rate > 0 and rng.unit() < a.malformed_rate:
                c["malformed"] += 1
                sink.write(stream, key, spoil(stream, line, key, rng))
            else:
                sink.write(stream, key, line.encode("utf-8"))
    sink.close()
    print(json.dumps({"posts": a.posts, "records": sink.records, "bytes": sink.bytes,
                      "streams": counts}))


if __name__ == "__main__":
    sys.exit(main())
