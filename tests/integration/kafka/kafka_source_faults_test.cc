// The Kafka source under broker faults, against librdkafka's in-process mock cluster: fetch
// errors and a broker outage are retried without loss, a lost cluster fails only a bounded
// run, and closing after the brokers went away is bounded.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/mock_cluster.h"
#include "tests/integration/kafka/kafka_consume.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using namespace std::chrono_literals;
using pinstream::testing::unique_name;
using pinstream::testing::wait_until;
using testing::Cluster;
using testing::consume;
using testing::emulate;
using testing::expect_contiguous_offsets;
using testing::Got;
using testing::payloads;
using SourceUnderTest = testing::GroupSource;

TEST(KafkaSource, FetchErrorsAndABrokerOutageAreRetriedWithoutLoss) {
  Cluster c;
  auto sent = emulate(c, 150, 6, 0.05);
  SourceUnderTest s(c, unique_name("g"));
  ASSERT_TRUE(s.source->open({}).is_ok());
  std::vector<Got> got;
  core::Batch batch;
  auto pump = [&] {
    batch.clear();
    auto n = s.source->poll(batch, 20ms, 10);
    EXPECT_TRUE(n.has_value());
    for (size_t k = 0; k < batch.size; ++k)
      got.push_back({s.source->partitions()[batch.records[k].partition].id,
                     std::stoll(batch.records[k].position), batch.records[k].bytes});
  };
  ASSERT_TRUE(wait_until(
      [&] {
        pump();
        return got.size() >= 20;
      },
      30s, 0ms));
  ASSERT_TRUE(c.mock->push_fetch_errors(5).is_ok());
  ASSERT_TRUE(c.mock->push_request_errors(1, 3, 7 /* REQUEST_TIMED_OUT */).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        pump();
        return got.size() >= 120;
      },
      30s, 0ms));
  ASSERT_TRUE(c.mock->set_broker_down(1, true).is_ok());
  for (int i = 0; i < 20; ++i) pump();  // ~0.4 s of polling against a dead broker
  ASSERT_TRUE(c.mock->set_broker_down(1, false).is_ok());
  auto rest = consume(*s.source, sent.size() - got.size(), 60s);
  got.insert(got.end(), rest.begin(), rest.end());
  std::multiset<std::string> want;
  for (const auto& [t, v] : sent) want.insert(v.substr(v.find('|') + 1));
  EXPECT_EQ(payloads(got), want);
  std::sort(got.begin(), got.end(), [](const Got& a, const Got& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  expect_contiguous_offsets(got);
}

// A cluster lost after the topics were read to their end: the source no longer says drained
// (the ends may have moved unseen); a bounded run (--until-idle) fails once the connect
// timeout passes without an answer, naming the servers; a daemon keeps retrying, and is
// drained again once the cluster is back and the ends are checked.
TEST(KafkaSource, ALostClusterIsNotDrainedAndFailsOnlyABoundedRunAfterTheConnectTimeout) {
  Cluster c(2);
  auto sent = emulate(c, 20, 8, 0);
  SourceUnderTest bounded(c, unique_name("g"), "  connect_timeout_ms: 1500\n");
  SourceUnderTest daemon(c, unique_name("g"), "  connect_timeout_ms: 1500\n");
  bounded.source->set_bounded(true);
  for (auto* s : {&bounded, &daemon})
    ASSERT_TRUE(s->source->open({}).is_ok());  // join side by side
  for (auto* s : {&bounded, &daemon})
    EXPECT_EQ(consume(*s->source, sent.size()).size(), sent.size());
  ASSERT_TRUE(c.mock->set_broker_down(1, true).is_ok());
  core::Batch batch;
  core::Status failed;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = bounded.source->poll(batch, 20ms, 16);
        if (!n) failed = n.error();
        EXPECT_TRUE(daemon.source->poll(batch, 20ms, 16).has_value());  // the daemon retries
        return !n.has_value();
      },
      20s, 0ms));
  EXPECT_FALSE(bounded.source->drained());
  EXPECT_FALSE(daemon.source->drained());
  EXPECT_FALSE(failed.retryable());
  EXPECT_EQ(failed.message().rfind(
                "Kafka at " + c.mock->bootstrap_servers() + " unreachable for 1500 ms: ", 0),
            0u)
      << failed.message();
  ASSERT_TRUE(c.mock->set_broker_down(1, false).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        EXPECT_TRUE(daemon.source->poll(batch, 20ms, 16).has_value());
        return daemon.source->drained();
      },
      30s, 0ms));
  EXPECT_EQ(batch.size, 0u);
}

TEST(KafkaSource, ClosingAfterTheBrokersWentAwayIsBoundedAndARestartResumes) {
  Cluster c(2);
  auto sent = emulate(c, 20, 9, 0);
  const std::string group = unique_name("g");
  // The default session timeout (45 s): what an unbounded close would wait for.
  auto member = std::make_unique<testing::SourceUnderTest>(c, "  group_id: " + group + "\n");
  ASSERT_TRUE(member->source->open({}).is_ok());
  EXPECT_EQ(consume(*member->source, sent.size()).size(), sent.size());
  const core::Positions positions = member->source->positions();
  ASSERT_TRUE(c.mock->set_broker_down(1, true).is_ok());
  // The daemon's last epoch publishes its offsets to the group, then the source closes.
  EXPECT_TRUE(member->source->on_epoch_committed(positions).is_ok());
  const auto t0 = std::chrono::steady_clock::now();
  member.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 8s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  // The broker back: a restart resumes from the positions the state kept, reading only what
  // came after (in a group of its own: the old member stays in its group until its session
  // expires, 45 s).
  ASSERT_TRUE(c.mock->set_broker_down(1, false).is_ok());
  auto more = emulate(c, 5, 10, 0);
  testing::SourceUnderTest again(c, "  group_id: " + unique_name("g") + "\n");
  ASSERT_TRUE(again.source->open(positions).is_ok());
  auto got = consume(*again.source, more.size(), 60s);
  EXPECT_EQ(got.size(), more.size());
}

}  // namespace
}  // namespace pinstream::connectors::kafka
