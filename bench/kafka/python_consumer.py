#!/usr/bin/python3
"""The hand-written alternative a user of the seed project would write: a confluent-kafka
consumer that reads the three topics to their end, cleans them with pandas as the seed's
notebooks do, deduplicates, joins on ind and computes one aggregate (posts per category per
country). Prints records/s for the whole job. Usage: python_consumer.py BOOTSTRAP ID"""
import json
import sys
import time

import pandas as pd
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


def follower(v):
    if not isinstance(v, str) or v == "":
        return None
    mult = {"k": 1000, "M": 1000000}.get(v[-1], 1)
    digits = v[:-1] if mult > 1 else v
    return int(digits) * mult if digits.isdigit() else None


def main():
    bootstrap, pid = sys.argv[1], sys.argv[2]
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
