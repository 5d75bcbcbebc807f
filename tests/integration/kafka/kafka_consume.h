// What the Kafka source tests share beyond the cluster (kafka_test_cluster.h): a source in a
// group built from YAML, polling until drained, emulated posts sent through the emulator's
// Kafka sink, and checks over what arrived.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/kafka_source_impl.h"
#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"
#include "stream/emulator/sinks.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka::testing {
using namespace std::chrono_literals;

struct Got {
  std::string partition;  // "topic/p"
  int64_t offset;
  std::string bytes;
};

// A source built from YAML as the pipeline would build it: in group `group`, with `extra`
// settings lines.
struct GroupSource : SourceUnderTest {
  GroupSource(const Cluster& c, const std::string& group, const std::string& extra = "")
      : SourceUnderTest(c,
                        "  group_id: " + group +
                            "\n  properties: {session.timeout.ms: \"6000\", heartbeat.interval.ms: "
                            "\"300\", log_level: \"3\"}\n" +
                            extra) {}
};

// The group member's Kafka source itself (for its membership and rebalance state).
inline KafkaSource& kafka(GroupSource& s) { return dynamic_cast<KafkaSource&>(*s.source); }

// Polls once (up to 64 records, 20 ms); adds what arrived to `got`; returns the poll's error.
inline core::Status pump(GroupSource& s, size_t* got = nullptr) {
  core::Batch batch;
  auto n = s.source->poll(batch, 20ms, 64);
  if (!n) return n.error();
  if (got) *got += *n;
  return core::Status::ok();
}

// Polls until `want` records arrived in total and the source says it is drained.
inline std::vector<Got> consume(Source& src, size_t want, std::chrono::seconds deadline = 30s) {
  std::vector<Got> got;
  core::Batch batch;
  pinstream::testing::wait_until(
      [&] {
        batch.clear();
        auto n = src.poll(batch, 50ms, 64);
        EXPECT_TRUE(n.has_value());
        for (size_t k = 0; k < batch.size; ++k) {
          const auto& r = batch.records[k];
          got.push_back({src.partitions().at(r.partition).id, std::stoll(r.position), r.bytes});
        }
        return got.size() >= want && src.drained();
      },
      deadline, 0ms);
  return got;
}

// Posts `posts` emulator posts through the emulator's Kafka sink; returns ind per payload.
inline std::multimap<std::string, std::string> emulate(const Cluster& c, int posts, uint64_t seed,
                                                       double malformed) {
  runtime::emulator::SinkSettings settings;
  settings.brokers = c.mock->bootstrap_servers();
  auto sink = runtime::emulator::make_sink("kafka", settings);
  EXPECT_TRUE(sink.has_value());
  runtime::emulator::Generator gen(
      {.seed = seed, .duplicate_rate = 0.1, .malformed_rate = malformed});
  runtime::emulator::Record pin, geo, user;
  std::multimap<std::string, std::string> sent;  // topic -> payload
  for (int i = 0; i < posts; ++i) {
    gen.next(pin, geo, user);
    for (const auto* r : {&pin, &geo, &user}) {
      EXPECT_TRUE((*sink)->send(c.topic(r->stream), *r).is_ok());
      sent.emplace(c.topic(r->stream), std::to_string(r->ind) + "|" + r->json);
    }
  }
  EXPECT_TRUE((*sink)->flush().is_ok());
  return sent;
}

// Every partition's offsets are 0, 1, 2, ... in order, each once.
inline void expect_contiguous_offsets(const std::vector<Got>& got) {
  std::map<std::string, int64_t> next;
  for (const auto& g : got) EXPECT_EQ(g.offset, next[g.partition]++) << g.partition;
}

inline std::multiset<std::string> payloads(const std::vector<Got>& got) {
  std::multiset<std::string> s;
  for (const auto& g : got) s.insert(g.bytes);
  return s;
}

}  // namespace pinstream::connectors::kafka::testing
