// `source.kafka.partitions: all`: one process assigns itself every partition of the topics
// (no consumer group join) and still reads each record once, resumes from stored positions,
// stops at the ends fixed by --available-now and commits its offsets to the group.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/mock_cluster.h"
#include "stream/core/config.h"
#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"
#include "stream/emulator/sinks.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using namespace std::chrono_literals;
using pinstream::testing::unique_name;
using pinstream::testing::wait_until;

using testing::kStreams;

struct AllPartitions : testing::Cluster {
  std::string group = unique_name("g");

  AllPartitions() : testing::Cluster(3, "ka") {}

  // Three records per post, keyed by ind (as the emulator's Kafka sink writes them).
  size_t emulate(int posts, uint64_t seed) {
    runtime::emulator::SinkSettings settings;
    settings.brokers = mock->bootstrap_servers();
    auto sink = runtime::emulator::make_sink("kafka", settings);
    EXPECT_TRUE(sink.has_value());
    runtime::emulator::Generator gen({.seed = seed, .duplicate_rate = 0.1, .malformed_rate = 0});
    runtime::emulator::Record pin, geo, user;
    for (int i = 0; i < posts; ++i) {
      gen.next(pin, geo, user);
      for (const auto* r : {&pin, &geo, &user})
        EXPECT_TRUE((*sink)->send(topic(r->stream), *r).is_ok());
    }
    EXPECT_TRUE((*sink)->flush().is_ok());
    return static_cast<size_t>(posts) * 3;
  }
};

// The source with `partitions: all` in the test's group.
struct Built : testing::SourceUnderTest {
  explicit Built(const AllPartitions& c)
      : testing::SourceUnderTest(c, "  group_id: " + c.group +
                                        "\n  partitions: all\n  properties: {log_level: \"3\"}\n") {
  }
};

// partition id -> offsets handed out, polling until `done` says so.
std::map<std::string, std::vector<int64_t>> consume(Source& src, size_t max_records,
                                                    const std::function<bool(size_t)>& done) {
  std::map<std::string, std::vector<int64_t>> got;
  size_t total = 0;
  core::Batch batch;
  EXPECT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = src.poll(batch, 50ms, max_records);
        EXPECT_TRUE(n.has_value());
        for (size_t k = 0; k < batch.size; ++k)
          got[src.partitions().at(batch.records[k].partition).id].push_back(
              std::stoll(batch.records[k].position));
        total += batch.size;
        return done(total);
      },
      30s, 0ms))
      << total;
  return got;
}

// A plain consumer of the group asks the committed offsets, as lag tools do.
std::map<std::string, int64_t> committed(const AllPartitions& c) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", c.mock->bootstrap_servers().c_str(), err,
                    sizeof err);
  rd_kafka_conf_set(conf, "group.id", c.group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  std::map<std::string, int64_t> out;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(9);
  for (const char* st : kStreams)
    for (int32_t p = 0; p < 3; ++p) rd_kafka_topic_partition_list_add(l, c.topic(st).c_str(), p);
  if (rd_kafka_committed(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    for (int i = 0; i < l->cnt; ++i)
      out[std::string(l->elems[i].topic) + "/" + std::to_string(l->elems[i].partition)] =
          l->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_destroy(rk);
  return out;
}

TEST(KafkaAllPartitions, ReadsEveryRecordOnceWithoutAGroupAndCommitsTheNextOffsets) {
  AllPartitions c;
  const size_t sent = c.emulate(100, 11);
  Built s(c);
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  auto got = consume(*s.source, 64, [&](size_t n) { return n >= sent && s.source->drained(); });
  size_t total = 0;
  for (const auto& [id, offsets] : got) {
    for (size_t i = 0; i < offsets.size(); ++i)
      EXPECT_EQ(offsets[i], static_cast<int64_t>(i)) << id;
    total += offsets.size();
  }
  EXPECT_EQ(total, sent);
  EXPECT_EQ(got.size(), 9u);  // every partition of the three topics, with nobody assigning them
  ASSERT_TRUE(s.source->on_epoch_committed(s.source->positions()).is_ok());
  std::map<std::string, int64_t> want;
  for (const auto& [id, offsets] : got) want[id] = static_cast<int64_t>(offsets.size());
  std::map<std::string, int64_t> seen;
  EXPECT_TRUE(wait_until([&] { return (seen = committed(c)) == want; }, 20s, 100ms));
  EXPECT_EQ(seen, want);
}

// SPEC section 4: a window waits for every partition's watermark. A partition that has
// not handed out a record yet must still be known to the engine, or the watermark over the
// others closes windows its first records fall in (then counted as "already emitted").
TEST(KafkaAllPartitions, EveryAssignedPartitionIsListedBeforeItsFirstRecord) {
  AllPartitions c;
  Built s(c);
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  core::Batch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        EXPECT_TRUE(s.source->poll(batch, 50ms, 64).has_value());
        return s.source->partitions().size() == 9u;
      },
      20s, 0ms))
      << s.source->partitions().size();
  EXPECT_EQ(batch.size, 0u);  // nothing was produced: listed from the assignment alone
  std::set<std::string> ids;
  for (const auto& p : s.source->partitions()) ids.insert(p.id);
  for (const char* st : kStreams)
    for (int p = 0; p < 3; ++p) EXPECT_TRUE(ids.count(c.topic(st) + "/" + std::to_string(p)));
}

TEST(KafkaAllPartitions, ResumesFromStoredPositionsAndStopsAtTheEndsFixedAtStart) {
  AllPartitions c;
  const size_t first = c.emulate(60, 12);
  core::Positions stored;
  size_t before = 0;
  {
    Built s(c);
    ASSERT_TRUE(s.source->open({}).is_ok());
    auto got = consume(*s.source, 7, [](size_t n) { return n >= 60; });
    for (const auto& [id, offsets] : got) before += offsets.size();
    stored = s.source->positions();  // what an epoch would commit
  }
  ASSERT_LT(before, first);
  Built s(c);
  ASSERT_TRUE(s.source->open(stored).is_ok());
  auto ends = s.source->fix_end_positions();  // --available-now
  ASSERT_TRUE(ends.has_value()) << ends.error().to_string();
  c.emulate(30, 13);  // written after the start: left for the next run
  auto got = consume(*s.source, 64, [&](size_t) { return s.source->drained(); });
  size_t after = 0;
  for (const auto& [id, offsets] : got) {
    ASSERT_FALSE(offsets.empty());
    auto pos = stored.find(id);
    const int64_t start = pos == stored.end() ? 0 : std::stoll(pos->second) + 1;
    for (size_t i = 0; i < offsets.size(); ++i)
      EXPECT_EQ(offsets[i], start + static_cast<int64_t>(i)) << id;
    EXPECT_EQ(std::to_string(offsets.back()), ends->at(id)) << id;
    after += offsets.size();
  }
  EXPECT_EQ(before + after, first);
}

}  // namespace
}  // namespace pinstream::connectors::kafka
