// The Kafka source, producer and dev broker against librdkafka's in-process mock cluster:
// every record arrives once with its offset, restarts resume from stored positions, group
// members split the partitions (broker faults: kafka_source_faults_test.cc).
#include "connectors/kafka/kafka_source.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/producer.h"
#include "stream/core/config.h"
#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"
#include "stream/emulator/sinks.h"
#include "tests/integration/kafka/kafka_consume.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using namespace std::chrono_literals;
using pinstream::testing::run_command;
using pinstream::testing::TempDir;
using pinstream::testing::unique_name;
using pinstream::testing::wait_until;
using pinstream::testing::write_file;

using testing::Cluster;
using testing::consume;
using testing::emulate;
using testing::expect_contiguous_offsets;
using testing::Got;
using testing::kStreams;
using testing::payloads;
using SourceUnderTest = testing::GroupSource;

TEST(KafkaSource, EmulatedRecordsIncludingMalformedOnesArriveOnceCoPartitionedWithTheirOffsets) {
  Cluster c;
  auto sent = emulate(c, 200, 1, 0.1);
  SourceUnderTest s(c, unique_name("g"));
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  auto got = consume(*s.source, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  expect_contiguous_offsets(got);
  std::multiset<std::string> want;
  std::map<std::string, std::string> partition_of_payload;
  for (const auto& [topic, v] : sent) {
    auto bar = v.find('|');
    want.insert(v.substr(bar + 1));
    // Keyed by ind: the same partition number in all three topics (co-partitioned), and the
    // one the files sink would pick.
    partition_of_payload[v.substr(bar + 1)] =
        topic + "/" +
        std::to_string(runtime::emulator::partition_of(std::stoll(v.substr(0, bar)), 3));
  }
  EXPECT_EQ(payloads(got), want);
  for (const auto& g : got) EXPECT_EQ(g.partition, partition_of_payload[g.bytes]) << g.bytes;
  // positions() = last offset per partition.
  std::map<std::string, int64_t> last;
  for (const auto& g : got) last[g.partition] = g.offset;
  core::Positions pos = s.source->positions();
  ASSERT_EQ(pos.size(), 9u);
  for (const auto& [id, off] : last) EXPECT_EQ(pos[id], std::to_string(off)) << id;
  EXPECT_TRUE(s.source->drained());
  // Read to the end: every assigned partition is 0 records behind its high watermark.
  auto lag = s.source->lag();
  EXPECT_EQ(lag.size(), 9u);
  for (const auto& [idx, n] : lag) EXPECT_EQ(n, 0) << idx;
  EXPECT_EQ(s.source->lag_unit(), LagUnit::kRecords);
}

TEST(KafkaSource, LagCountsTheRecordsNotYetRead) {
  Cluster c;
  auto sent = emulate(c, 300, 1, 0.0);
  SourceUnderTest s(c, unique_name("g"));
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  size_t got = 0;
  core::Batch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = s.source->poll(batch, 50ms, 10);
        got += n ? *n : 0;
        return got >= 100;
      },
      30s, 0ms));
  int64_t behind = 0;
  for (const auto& [idx, n] : s.source->lag()) behind += n;
  // What the source has not handed out yet (fetched or not) is lag; it is all of the rest
  // once librdkafka has seen every partition's high watermark.
  EXPECT_GT(behind, 0);
  EXPECT_LE(behind, static_cast<int64_t>(sent.size() - got));
}

// A new group starts each partition at offset 0 without asking the broker for the log
// start (that lookup left a third of the partitions idle for 0.5 s at start-up); where
// retention already dropped the head, auto.offset.reset=earliest moves it to the log start.
TEST(KafkaSource, ANewGroupReadsFromTheLogStartAfterRetentionDroppedTheHead) {
  Cluster c(1);
  TempDir dir("ps-retention");
  const int n = 9000;  // ~9 MiB into one partition: the mock keeps ~5 MiB of it
  std::string in;
  const std::string pad(1000, 'x');
  for (int i = 0; i < n; ++i)
    in += "{\"ind\": " + std::to_string(i) + ", \"pad\": \"" + pad + "\"}\n";
  write_file(dir / "in.txt", in);
  std::string out;
  ASSERT_EQ(run_command("kcat -b " + c.mock->bootstrap_servers() + " -P -p 0 -t " + c.topic("pin") +
                            " -l '" + (dir / "in.txt").string() + "'",
                        &out),
            0)
      << out;
  SourceUnderTest s(c, unique_name("g"));
  ASSERT_TRUE(s.source->open({}).is_ok());
  std::vector<Got> got;
  core::Batch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto k = s.source->poll(batch, 50ms, 512);
        EXPECT_TRUE(k.has_value());
        for (size_t i = 0; i < batch.size; ++i)
          got.push_back({s.source->partitions().at(batch.records[i].partition).id,
                         std::stoll(batch.records[i].position), ""});
        return !got.empty() && got.back().offset == n - 1 && s.source->drained();
      },
      30s, 0ms))
      << got.size();
  ASSERT_FALSE(got.empty());
  EXPECT_GT(got.front().offset, 0) << "retention should have dropped the head";
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i].offset, got.front().offset + static_cast<int64_t>(i));
  EXPECT_EQ(got.size(), static_cast<size_t>(n - got.front().offset));
}

TEST(KafkaSource, RecordsProducedWithKcatArriveByteForByte) {
  Cluster c(2);
  TempDir dir("ps-kcat");
  std::multiset<std::string> want;
  for (const char* st : kStreams) {
    std::string in;
    for (int i = 0; i < 50; ++i) {
      std::string v = std::string("{\"ind\": ") + std::to_string(i) + ", \"s\": \"" + st + " é\"}";
      if (i == 7) v = "not json at all";
      in += std::to_string(i) + "\t" + v + "\n";
      want.insert(v);
    }
    write_file(dir / "in.txt", in);
    std::string out;
    ASSERT_EQ(run_command("kcat -b " + c.mock->bootstrap_servers() + " -P -t " + c.topic(st) +
                              " -K '\t' -l '" + (dir / "in.txt").string() + "'",
                          &out),
              0)
        << out;
  }
  SourceUnderTest s(c, unique_name("g"));
  ASSERT_TRUE(s.source->open({}).is_ok());
  auto got = consume(*s.source, want.size());
  EXPECT_EQ(payloads(got), want);
  expect_contiguous_offsets(got);
}

TEST(KafkaSource, ReopeningFromStoredPositionsResumesWithoutLossOrDuplicates) {
  Cluster c;
  auto first = emulate(c, 100, 2, 0);
  std::vector<Got> before;
  core::Positions stored;
  {
    SourceUnderTest s(c, unique_name("g"));
    ASSERT_TRUE(s.source->open({}).is_ok());
    core::Batch batch;
    ASSERT_TRUE(wait_until(
        [&] {
          batch.clear();
          auto n = s.source->poll(batch, 50ms, 7);
          for (size_t k = 0; k < batch.size; ++k)
            before.push_back({s.source->partitions()[batch.records[k].partition].id,
                              std::stoll(batch.records[k].position), batch.records[k].bytes});
          return n.has_value() && before.size() >= 150;
        },
        30s, 0ms));
    stored = s.source->positions();  // what an epoch would commit
  }
  ASSERT_LT(before.size(), first.size());
  auto second = emulate(c, 50, 3, 0);
  // A new group: the positions come from our store, not from Kafka's committed offsets.
  SourceUnderTest s(c, unique_name("g2"));
  ASSERT_TRUE(s.source->open(stored).is_ok());
  auto after = consume(*s.source, first.size() + second.size() - before.size());
  std::vector<Got> all = before;
  all.insert(all.end(), after.begin(), after.end());
  std::sort(all.begin(), all.end(), [](const Got& a, const Got& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  expect_contiguous_offsets(all);
  EXPECT_EQ(all.size(), first.size() + second.size());
}

TEST(KafkaSource, EpochCommitPublishesTheNextOffsetsToTheGroup) {
  Cluster c(1);
  auto sent = emulate(c, 20, 4, 0);
  const std::string group = unique_name("g");
  SourceUnderTest s(c, group);
  ASSERT_TRUE(s.source->open({}).is_ok());
  auto got = consume(*s.source, sent.size());
  ASSERT_EQ(got.size(), 60u);
  ASSERT_TRUE(s.source->on_epoch_committed(s.source->positions()).is_ok());
  // Ask the group's committed offsets with a plain librdkafka consumer (as lag tools do).
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", c.mock->bootstrap_servers().c_str(), err,
                    sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  std::map<std::string, int64_t> committed;
  ASSERT_TRUE(wait_until(
      [&] {
        rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(3);
        for (const char* st : kStreams)
          rd_kafka_topic_partition_list_add(l, c.topic(st).c_str(), 0);
        if (rd_kafka_committed(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
          for (int i = 0; i < l->cnt; ++i) committed[l->elems[i].topic] = l->elems[i].offset;
        rd_kafka_topic_partition_list_destroy(l);
        return committed.size() == 3 && committed.begin()->second == 20;
      },
      20s, 100ms));
  for (const char* st : kStreams) EXPECT_EQ(committed[c.topic(st)], 20) << st;
  rd_kafka_destroy(rk);
}

TEST(KafkaSource, TwoMembersOfAGroupSplitThePartitionsAndTogetherReadEverything) {
  Cluster c(4);
  auto sent = emulate(c, 300, 5, 0);
  const std::string group = unique_name("g");
  // Two members on one host: each needs its own group.instance.id (the default is per host).
  SourceUnderTest a(c, group, "  group_instance_id: member-a\n"),
      b(c, group, "  group_instance_id: member-b\n");
  ASSERT_TRUE(a.source->open({}).is_ok());
  std::vector<Got> got_a, got_b;
  core::Batch batch;
  auto pump = [&](Source& src, std::vector<Got>& got) {
    batch.clear();
    auto n = src.poll(batch, 20ms, 16);
    EXPECT_TRUE(n.has_value());
    for (size_t k = 0; k < batch.size; ++k)
      got.push_back({src.partitions()[batch.records[k].partition].id,
                     std::stoll(batch.records[k].position), batch.records[k].bytes});
  };
  // a alone reads a little, then b joins and the cooperative rebalance moves partitions to it.
  ASSERT_TRUE(wait_until(
      [&] {
        pump(*a.source, got_a);
        return got_a.size() >= 50;
      },
      30s, 0ms));
  ASSERT_TRUE(b.source->open({}).is_ok());
  std::set<std::string> all_parts;
  for (const char* st : kStreams)
    for (int p = 0; p < 4; ++p) all_parts.insert(c.topic(st) + "/" + std::to_string(p));
  auto parts_of = [](const std::vector<Got>& g) {
    std::set<std::string> s;
    for (const auto& x : g) s.insert(x.partition);
    return s;
  };
  std::set<std::string> want;
  for (const auto& [t, v] : sent) want.insert(v.substr(v.find('|') + 1));
  ASSERT_TRUE(wait_until(
      [&] {
        pump(*a.source, got_a);
        pump(*b.source, got_b);
        if (got_b.empty() || !a.source->drained() || !b.source->drained()) return false;
        std::set<std::string> u;
        for (const auto* g : {&got_a, &got_b})
          for (const auto& x : *g) u.insert(x.bytes);
        return u == want;
      },
      60s, 0ms))
      << "a=" << got_a.size() << " b=" << got_b.size();
  // Each member reads each of its partitions in offset order without repeating itself.
  std::map<std::string, int64_t> last;
  for (const auto& g : got_a) {
    EXPECT_GT(g.offset, last.count(g.partition) ? last[g.partition] : -1);
    last[g.partition] = g.offset;
  }
  last.clear();
  for (const auto& g : got_b) {
    EXPECT_GT(g.offset, last.count(g.partition) ? last[g.partition] : -1);
    last[g.partition] = g.offset;
  }
  // Partitions moved: b read some, and together they cover all twelve.
  std::set<std::string> pa = parts_of(got_a), pb = parts_of(got_b), both = pa;
  both.insert(pb.begin(), pb.end());
  EXPECT_FALSE(pb.empty());
  EXPECT_EQ(both, all_parts);
}

TEST(KafkaSourceConfig, RejectsUnknownKeysAndBadPropertiesNamingThem) {
  Cluster c(1);
  SourceUnderTest typo(c, "g", "  bootstrap_server: x\n");
  EXPECT_FALSE(typo.source);
  EXPECT_NE(typo.error.to_string().find("bootstrap_server"), std::string::npos)
      << typo.error.to_string();
  core::ConfigNode root = *core::parse_config_text(
      "s: {bootstrap_servers: x, properties: {sasl.password: hunter2, no.such.property: y}}\n",
      "t.yaml");
  auto built = make_source({}, root.find("s"));
  ASSERT_FALSE(built);
  const core::Status& error = built.error();
  EXPECT_NE(error.to_string().find("no.such.property"), std::string::npos) << error.to_string();
  EXPECT_EQ(error.to_string().find("hunter2"), std::string::npos);
}

TEST(MockClusterBroker, KcatListsThePreCreatedTopicsOfTheDevBroker) {
  Cluster c(5);
  std::string out;
  ASSERT_EQ(
      run_command("kcat -b " + c.mock->bootstrap_servers() + " -L -t " + c.topic("geo"), &out), 0)
      << out;
  EXPECT_NE(out.find("topic \"" + c.topic("geo") + "\" with 5 partitions"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace pinstream::connectors::kafka
