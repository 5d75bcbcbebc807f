#!/usr/bin/python3
"""The hand-written alternative a user of the seed project would write: a confluent-kafka
consumer that reads the three topics to their end, cleans them with pandas as the seed's
notebooks do, deduplicates, joins on ind and computes one aggregate (posts per category per
country). Prints records/s for the whole job.
With --raw it only reads the three topics to their end with one consumer (no decoding), as
kcat and the pinstream source's consume-rate test do: by assignment, or with --group as a
member of a new consumer group (the join is then printed separately). Times are from the
process start (the interpreter's start, before the imports).
Usage: python_consumer.py BOOTSTRAP ID [--raw [--group]]"""
import time

PROCESS_START = time.time()  # nearest to the process start an import-free line gets

import json
import sys
import uuid

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

NULLS = {
    "title": ["No Title Data Available"],
    "description": ["No description available Story format", "No description available", "Untitled"],
    "poster_name": ["User Info Error"],
    "follower_count": ["User Info Error"],
    "tag_list": ["N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"],
    "image_src": ["Image src error."],
}


def read_topic(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-bench", "enable.auto.commit": False,
                  "fetch.max.bytes": 52428800})
    meta = c.list_topics(topic, timeout=10)
    parts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.topics[topic].partitions]
    ends = {tp.partition: c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
    c.assign(parts)
    rows, bad, done = [], 0, {p for p, e in ends.items() if e == 0}
    while len(done) < len(parts):
        for m in c.consume(num_messages=10000, timeout=1.0):
            if m.error():
                continue
            try:
                rows.append(json.loads(m.value()))
            except ValueError:
                bad += 1
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    c.close()
    return pd.DataFrame(rows), len(rows) + bad


def read_raw(bootstrap, pid, group):
    """Every record of the three topics once, to the high watermarks seen at the start."""
    topics = [pid + "." + s for s in ("pin", "geo", "user")]
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-raw-" + uuid.uuid4().hex,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "fetch.max.bytes": 52428800, "log_level": 3})
    ends, parts = {}, []
    for t in topics:
        for p in c.list_topics(t, timeout=10).topics[t].partitions:
            ends[(t, p)] = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1]
            parts.append(TopicPartition(t, p, 0))
    assigned = []
    if group:
        c.subscribe(topics, on_assign=lambda cons, ps: assigned.append(time.time()))
    else:
        c.assign(parts)
    left = {k for k, e in ends.items() if e > 0}
    records = size = 0
    first = last = None
    while left:
        for m in c.consume(num_messages=10000, timeout=1.0):
            if m.error():
                continue
            records += 1
            size += len(m.value() or b"")
            if m.offset() + 1 >= ends[(m.topic(), m.partition())]:
                left.discard((m.topic(), m.partition()))
        if records and first is None:
            first = time.time()
    last = time.time()
    c.close()
    join = " group join done %.3f s," % (assigned[0] - PROCESS_START) if assigned else ""
    print("python confluent-kafka raw (%s): %d records, %.1f MB;%s first batch %.3f s, last record "
          "%.3f s after process start" % ("group" if group else "assign", records, size / 1e6, join,
                                          first - PROCESS_START, last - PROCESS_START))


def follower(v):
    if not isinstance(v, str) or v == "":
        return None
    mult = {"k": 1000, "M": 1000000}.get(v[-1], 1)
    digits = v[:-1] if mult > 1 else v
    return int(digits) * mult if digits.isdigit() else None


def main():
    bootstrap, pid = sys.argv[1], sys.argv[2]
    if "--raw" in sys.argv:
        read_raw(bootstrap, pid, "--group" in sys.argv)
        return
    global pd
    import pandas as pd  # only the full job needs it (and its import takes a while)
    start = time.time()
    pin, n_pin = read_topic(bootstrap, pid + ".pin")
    geo, n_geo = read_topic(bootstrap, pid + ".geo")
    user, n_user = read_topic(bootstrap, pid + ".user")
    read_done = time.time()
    pin = pin.rename(columns={"index": "ind"})
    for col, vals in NULLS.items():
        pin[col] = pin[col].replace(vals + [""], None)
    pin["follower_count"] = pin["follower_count"].map(follower)
    pin["save_location"] = pin["save_location"].str.replace("Local save in ", "", regex=False)
    geo["timestamp"] = pd.to_datetime(geo["timestamp"].str.replace("T", " ", regex=False), errors="coerce")
    geo["coordinates"] = list(zip(geo["latitude"], geo["longitude"]))
    user["user_name"] = user["first_name"] + " " + user["last_name"]
    user["date_joined"] = pd.to_datetime(user["date_joined"].str.replace("T", " ", regex=False), errors="coerce")
    pin = pin.drop_duplicates("ind")
    geo = geo.drop_duplicates("ind")
    user = user.drop_duplicates("ind")
    posts = pin.merge(geo, on="ind").merge(user, on="ind")
    agg = posts.groupby(["country", "category"]).size().reset_index(name="category_count")
    end = time.time()
    records = n_pin + n_geo + n_user
    print(f"python confluent-kafka + pandas: {records} records in {end - start:.2f} s "
          f"(read {read_done - start:.2f} s): {records / (end - start):.0f} records/s; "
          f"{len(posts)} posts, {len(agg)} country/category rows")


if __name__ == "__main__":
    main()
