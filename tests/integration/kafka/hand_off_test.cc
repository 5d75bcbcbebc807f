// The Kafka source's side of task hand-off on a rebalance (SPEC section 9): a member that
// read partitions the group takes back holds the rebalance (its unassign) until the runtime
// says their records are committed and their checkpoints published, hands out nothing more
// of them meanwhile, and afterwards gives up the positions of those the group moved away.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_source_impl.h"
#include "tests/integration/kafka/kafka_consume.h"
#include "tests/integration/kafka/kafka_test_cluster.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using namespace std::chrono_literals;
using pinstream::testing::unique_name;
using pinstream::testing::wait_until;
using testing::Cluster;
using testing::GroupSource;
using testing::kafka;
using testing::pump;

struct HandOffHooks {
  std::atomic<int> asked{0};
  std::vector<std::string> released;
  Membership membership(const std::string& hint) {
    Membership m;
    m.tasks_by_partition = true;
    m.member_hint = hint;
    m.hand_off = [this] { ++asked; };
    m.released = [this](const std::vector<std::string>& ids) {
      released.insert(released.end(), ids.begin(), ids.end());
    };
    return m;
  }
};

TEST(KafkaHandOff, ARevokedMemberHoldsTheRebalanceUntilItsTasksAreHandedOver) {
  Cluster c(2);
  testing::emulate(c, 60, 11, 0);
  const std::string group = unique_name("g");
  GroupSource a(c, group, "  group_instance_id: a\n"), b(c, group, "  group_instance_id: b\n");
  HandOffHooks ha, hb;
  ASSERT_TRUE(a.source->set_membership(ha.membership("/data/a")).is_ok());
  ASSERT_TRUE(b.source->set_membership(hb.membership("/data/b")).is_ok());
  ASSERT_TRUE(a.source->open({}).is_ok());
  size_t got_a = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a, &got_a).is_ok());
        return got_a == 180 && a.source->drained();
      },
      30s, 0ms))
      << got_a;
  EXPECT_EQ(a.source->positions().size(), 6u);

  // A newcomer: the group takes everything back from `a`, which asks for the hand-off.
  ASSERT_TRUE(b.source->open({}).is_ok());
  size_t got_b = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a, &got_a).is_ok());
        EXPECT_TRUE(pump(b, &got_b).is_ok());
        return ha.asked.load() > 0;
      },
      30s, 0ms));
  EXPECT_EQ(ha.asked.load(), 1);
  // Until the hand-off is done, the group waits: nobody is given anything, nothing is read.
  auto more = testing::emulate(c, 20, 12, 0);
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(pump(a, &got_a).is_ok());
    EXPECT_TRUE(pump(b, &got_b).is_ok());
  }
  EXPECT_EQ(got_a, 180u);
  EXPECT_EQ(got_b, 0u);
  EXPECT_TRUE(kafka(a).assigned().empty());
  EXPECT_TRUE(kafka(b).assigned().empty());
  EXPECT_FALSE(a.source->drained());
  EXPECT_TRUE(ha.released.empty());

  // From now on each hand-off asked for is done at once (the dev broker may rebalance again
  // when a member rejoins late).
  int answered = 0;
  auto answer = [&] {
    for (; answered < ha.asked.load(); ++answered) a.source->hand_off_done();
  };
  answer();
  ASSERT_TRUE(wait_until(
      [&] {
        answer();
        EXPECT_TRUE(pump(a, &got_a).is_ok());
        EXPECT_TRUE(pump(b, &got_b).is_ok());
        return kafka(a).assigned().size() == 3 && kafka(b).assigned().size() == 3;
      },
      30s, 0ms))
      << kafka(a).assigned().size() << " + " << kafka(b).assigned().size();
  // `a` gave up exactly the partitions `b` was given; it keeps the positions of the rest.
  const std::set<std::string> released(ha.released.begin(), ha.released.end());
  EXPECT_EQ(released, kafka(b).assigned());
  EXPECT_TRUE(hb.released.empty());
  const auto positions = a.source->positions();
  EXPECT_EQ(positions.size(), 3u);
  for (const auto& [id, pos] : positions) EXPECT_TRUE(kafka(a).assigned().count(id)) << id;
  // Each reads on: `a` after its positions, `b` its partitions from the start (this test's
  // membership starts fresh partitions; the runtime would import their task checkpoints).
  ASSERT_TRUE(wait_until(
      [&] {
        answer();
        EXPECT_TRUE(pump(a, &got_a).is_ok());
        EXPECT_TRUE(pump(b, &got_b).is_ok());
        return got_a + got_b >= 180 + more.size() && a.source->drained() && b.source->drained();
      },
      30s, 0ms))
      << got_a << " + " << got_b;
}

// A revoke of partitions that were never read needs no hand-off: the rebalance goes on.
TEST(KafkaHandOff, ARevokeOfUnreadPartitionsIsNotHeld) {
  Cluster c(2);
  const std::string group = unique_name("g");
  GroupSource a(c, group, "  group_instance_id: a\n"), b(c, group, "  group_instance_id: b\n");
  HandOffHooks ha, hb;
  ASSERT_TRUE(a.source->set_membership(ha.membership("/data/a")).is_ok());
  ASSERT_TRUE(b.source->set_membership(hb.membership("/data/b")).is_ok());
  ASSERT_TRUE(a.source->open({}).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a).is_ok());
        return kafka(a).assigned().size() == 6;
      },
      30s, 0ms));
  ASSERT_TRUE(b.source->open({}).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a).is_ok());
        EXPECT_TRUE(pump(b).is_ok());
        return kafka(a).assigned().size() == 3 && kafka(b).assigned().size() == 3;
      },
      30s, 0ms));
  EXPECT_EQ(ha.asked.load(), 0);
  EXPECT_TRUE(ha.released.empty());
}

}  // namespace
}  // namespace pinstream::connectors::kafka
