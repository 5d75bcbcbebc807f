// The Kafka source hands out partition p of each topic in step, whatever the size of their
// records: librdkafka fetches by bytes, so a topic of small records arrives thousands of
// records ahead of one of large records, and a join of the two would hold them all waiting
// (bench/README.md, "End to end over Kafka").
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/producer.h"
#include "connectors/poll_budget.h"
#include "tests/integration/kafka/kafka_consume.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using namespace std::chrono_literals;
using pinstream::testing::unique_name;
using pinstream::testing::wait_until;

constexpr int kRecords = 3000;

// kRecords per topic into its one partition: pin records of 1 KB, geo and user of ~40
// bytes, pin written first (so neither arrival nor timestamps order them by key).
void produce(const testing::Cluster& c) {
  auto p = Producer::create(c.mock->bootstrap_servers(), {{"linger.ms", "5"}});
  ASSERT_TRUE(p.has_value());
  for (const char* s : testing::kStreams) {
    const std::string pad(std::string(s) == "pin" ? 1000 : 20, 'x');
    for (int i = 0; i < kRecords; ++i) {
      const std::string key = std::to_string(i);
      ASSERT_TRUE((*p)->produce(c.topic(s), key, "{\"ind\": " + key + ", \"pad\": \"" + pad + "\"}")
                      .is_ok());
    }
  }
  ASSERT_TRUE((*p)->flush(20s).is_ok());
}

// Polls 64 records at a time until every record arrived; returns the largest difference,
// after any poll, between the records handed out of two topics.
int64_t widest_gap(Source& src) {
  std::map<std::string, int64_t> per_topic;
  int64_t widest = 0, total = 0;
  core::Batch batch;
  EXPECT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = src.poll(batch, 50ms, 64);
        EXPECT_TRUE(n.has_value());
        for (size_t k = 0; k < batch.size; ++k) {
          const std::string& id = src.partitions().at(batch.records[k].partition).id;
          ++per_topic[id.substr(0, id.rfind('/'))];
        }
        total += static_cast<int64_t>(batch.size);
        if (per_topic.size() == 3) {
          auto [lo, hi] =
              std::minmax_element(per_topic.begin(), per_topic.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
          widest = std::max(widest, hi->second - lo->second);
        } else if (!per_topic.empty()) {
          widest = std::max(widest, std::max_element(per_topic.begin(), per_topic.end(),
                                                     [](const auto& a, const auto& b) {
                                                       return a.second < b.second;
                                                     })
                                        ->second);
        }
        return total >= 3 * kRecords;
      },
      60s, 0ms))
      << total;
  EXPECT_EQ(total, 3 * kRecords);
  return widest;
}

// A fetch in flight on a loaded machine may take longer than the default wait (200 ms):
// the tests wait for every fetch, so the step they check does not depend on timing.
const std::string kWaitForEveryFetch = "  max_idle_wait_ms: 30000\n";

// A source assigned every partition (no group join), opened.
struct AllPartitionsSource : testing::SourceUnderTest {
  explicit AllPartitionsSource(const testing::Cluster& c)
      : testing::SourceUnderTest(c, "  group_id: " + unique_name("g") + "\n  partitions: all\n" +
                                        kWaitForEveryFetch + "  properties: {log_level: \"3\"}\n") {
    EXPECT_TRUE(source) << error.to_string();
    if (source) {
      EXPECT_TRUE(source->open({}).is_ok());
    }
  }
};

TEST(KafkaInStep, TopicsOfSmallAndLargeRecordsAdvanceTogetherWithEveryPartitionAssigned) {
  testing::Cluster c(1, "kis");
  produce(c);
  AllPartitionsSource s(c);
  ASSERT_TRUE(s.source);
  // A fetch brings ~500 pin records and all 3000 geo and user ones; in step, no topic is
  // more than the lanes' slack (64) and one poll's share ahead.
  EXPECT_LE(widest_gap(*s.source), 64 + 64);
}

TEST(KafkaInStep, TopicsAdvanceTogetherInAConsumerGroup) {
  testing::Cluster c(1, "kig");
  produce(c);
  testing::GroupSource s(c, unique_name("g"), kWaitForEveryFetch);
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  EXPECT_LE(widest_gap(*s.source), 64 + 64);
}

// A poll takes about PollBudget::kBytes of records (decoded while still in the core's
// cache), however many the caller allows: as many as the average size of the records handed
// out so far says (followed here by a PollBudget of the test's own), never more (4,096
// before: a poll took all that waited in step). Every
// record arrives once, in offset order within its partition.
TEST(KafkaInStep, APollTakesAboutTheByteBudgetAndEveryRecordOnceInOrder) {
  testing::Cluster c(8, "kpb");
  produce(c);
  AllPartitionsSource s(c);
  ASSERT_TRUE(s.source);
  PollBudget expected;
  std::map<std::string, int64_t> next;  // partition id -> the offset expected next
  std::set<std::string> payloads;
  size_t total = 0, full = 0, full_bytes = 0;
  core::Batch batch;
  EXPECT_TRUE(wait_until(
      [&] {
        batch.clear();
        const size_t allowed = expected.records(4096);
        auto n = s.source->poll(batch, 50ms, 4096);
        EXPECT_TRUE(n.has_value());
        EXPECT_LE(batch.size, allowed);
        size_t bytes = 0;
        for (size_t k = 0; k < batch.size; ++k) {
          const auto& r = batch.records[k];
          const std::string& id = s.source->partitions().at(r.partition).id;
          EXPECT_EQ(std::stoll(r.position), next[id]++) << id;
          EXPECT_TRUE(payloads.insert(id.substr(0, id.rfind('/')) + r.bytes).second);
          bytes += r.bytes.size();
        }
        if (batch.size == allowed && total > 0) {  // cut by the budget, its size learned
          ++full;
          full_bytes += bytes;
        }
        expected.learn(batch, 0);
        total += batch.size;
        return total >= 3 * static_cast<size_t>(kRecords);
      },
      60s, 0ms))
      << total;
  EXPECT_EQ(total, 3 * static_cast<size_t>(kRecords));
  EXPECT_EQ(payloads.size(), 3 * static_cast<size_t>(kRecords));
  // Some polls found more than the budget waiting; they took about its bytes on average
  // (one alone may take more small or large records than the average, as the lanes allow).
  ASSERT_GT(full, 0u);
  EXPECT_GE(full_bytes / full, PollBudget::kBytes / 2);
  EXPECT_LE(full_bytes / full, PollBudget::kBytes * 2);
}

// librdkafka 2.0 stops fetching a partition whose queue is over queued.min.messages or
// queued.max.messages.kbytes, and a broker all of whose partitions are sleeps up to 1 s,
// however soon they are read down (librdkafka 2.3 added fetch.queue.backoff.ms). Here every
// refill brings one producer batch of ~4 records per partition (the dev broker answers a
// fetch with one batch): ~150 refills, minutes if each waited for the broker's timeout,
// about a second when the source wakes the broker as soon as the lanes are empty.
TEST(KafkaInStep, ABrokerStoppedByThePrefetchBoundsIsWokenOnceTheLanesAreEmpty) {
  constexpr int kSmall = 600;
  testing::Cluster c(1, "kwk");
  {
    auto p =
        Producer::create(c.mock->bootstrap_servers(), {{"linger.ms", "5"}, {"batch.size", "1000"}});
    ASSERT_TRUE(p.has_value());
    const std::string pad(180, 'x');
    for (const char* s : testing::kStreams)
      for (int i = 0; i < kSmall; ++i)
        ASSERT_TRUE((*p)->produce(c.topic(s), std::to_string(i), pad).is_ok());
    ASSERT_TRUE((*p)->flush(20s).is_ok());
  }
  testing::SourceUnderTest s(c, "  group_id: " + unique_name("g") +
                                    "\n  partitions: all\n"
                                    "  properties: {queued.min.messages: \"4\", "
                                    "queued.max.messages.kbytes: \"1\", log_level: \"3\"}\n");
  ASSERT_TRUE(s.source) << s.error.to_string();
  ASSERT_TRUE(s.source->open({}).is_ok());
  const auto start = std::chrono::steady_clock::now();
  int64_t total = 0;
  core::Batch batch;
  EXPECT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = s.source->poll(batch, 50ms, 64);
        EXPECT_TRUE(n.has_value());
        if (n.has_value()) total += static_cast<int64_t>(*n);
        return total >= 3 * kSmall;
      },
      60s, 0ms));
  EXPECT_EQ(total, 3 * kSmall);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

}  // namespace
}  // namespace pinstream::connectors::kafka
