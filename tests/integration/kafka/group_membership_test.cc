// The Kafka source as a member of a consumer group shared by several pinstream processes
// (SPEC section 9), against librdkafka's mock cluster: co-located tasks (partition p of every
// topic on one member), unequal partition counts refused, static membership ids, and the
// assignments a process refuses until tasks can move (task hand-off).
#include <gtest/gtest.h>

#include <set>
#include <string>

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
using testing::kStreams;
using testing::pump;

// The partition numbers of `topic` in `ids` ("topic/p").
std::set<int> numbers(const std::set<std::string>& ids, const std::string& topic) {
  std::set<int> out;
  for (const auto& id : ids)
    if (id.rfind(topic + "/", 0) == 0) out.insert(std::stoi(id.substr(topic.size() + 1)));
  return out;
}

Membership partitions_mode(const std::string& hint) {
  Membership m;
  m.tasks_by_partition = true;
  m.member_hint = hint;
  return m;
}

TEST(KafkaGroup, TwoMembersGetEveryTopicsPartitionPTogether) {
  Cluster c(6);
  const std::string group = unique_name("g");
  GroupSource a(c, group), b(c, group);
  ASSERT_TRUE(a.source && b.source);
  ASSERT_TRUE(a.source->set_membership(partitions_mode("/data/a")).is_ok());
  ASSERT_TRUE(b.source->set_membership(partitions_mode("/data/b")).is_ok());
  ASSERT_TRUE(a.source->open({}).is_ok());
  ASSERT_TRUE(b.source->open({}).is_ok());
  auto settled = [&] {
    EXPECT_TRUE(pump(a).is_ok());
    EXPECT_TRUE(pump(b).is_ok());
    const auto &pa = kafka(a).assigned(), &pb = kafka(b).assigned();
    return pa.size() == 9 && pb.size() == 9;
  };
  ASSERT_TRUE(wait_until(settled, 30s, 0ms))
      << kafka(a).assigned().size() << " + " << kafka(b).assigned().size();
  const std::set<int> a_tasks = numbers(kafka(a).assigned(), c.topic("pin"));
  const std::set<int> b_tasks = numbers(kafka(b).assigned(), c.topic("pin"));
  EXPECT_EQ(a_tasks.size(), 3u);
  EXPECT_EQ(b_tasks.size(), 3u);
  for (const char* st : kStreams) {
    EXPECT_EQ(numbers(kafka(a).assigned(), c.topic(st)), a_tasks) << st;
    EXPECT_EQ(numbers(kafka(b).assigned(), c.topic(st)), b_tasks) << st;
  }
  for (int p : a_tasks) EXPECT_FALSE(b_tasks.count(p)) << p;
}

TEST(KafkaGroup, UnequalPartitionCountsAreRefusedNamingTheTopicsAndCounts) {
  Cluster c(4);
  const std::string odd = c.id + ".odd";
  ASSERT_TRUE(c.mock->create_topic(odd, 3).is_ok());
  // The geo stream reads a topic of 3 partitions beside two of 4.
  std::string settings = "  group_id: " + unique_name("g") + "\n";
  core::ConfigNode root = *core::parse_config_text(
      "settings:\n  bootstrap_servers: \"" + c.mock->bootstrap_servers() + "\"\n" + settings +
          "streams:\n  pin: {topic: \"" + c.topic("pin") + "\"}\n  geo: {topic: \"" + odd +
          "\"}\n  user: {topic: \"" + c.topic("user") + "\"}\n",
      "test.yaml");
  std::vector<StreamBinding> bindings;
  for (uint32_t i = 0; i < 3; ++i)
    bindings.push_back({i, kStreams[i], root.find("streams")->find(kStreams[i])});
  auto src = make_source(bindings, root.find("settings"));
  ASSERT_TRUE(src.has_value()) << src.error().to_string();
  ASSERT_TRUE((*src)->set_membership(partitions_mode("/data/a")).is_ok());
  ASSERT_TRUE((*src)->open({}).is_ok());
  core::Status refused;
  ASSERT_TRUE(wait_until(
      [&] {
        core::Batch batch;
        auto n = (*src)->poll(batch, 20ms, 64);
        if (n) return false;
        refused = n.error();
        return true;
      },
      30s, 0ms));
  EXPECT_EQ(refused.code(), core::StatusCode::kInvalidArgument);
  const std::string& msg = refused.message();
  EXPECT_NE(msg.find(c.topic("pin") + " 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find(odd + " 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("equal partition counts"), std::string::npos) << msg;
}

TEST(KafkaGroup, TasksByPartitionRefuseAnAssignmentStrategyThatDoesNotCoLocate) {
  Cluster c(2);
  testing::SourceUnderTest s(c, "  group_id: " + unique_name("g") +
                                    "\n  properties: {partition.assignment.strategy: "
                                    "cooperative-sticky}\n");
  ASSERT_TRUE(s.source);
  core::Status st = s.source->set_membership(partitions_mode("/data/a"));
  EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("partition.assignment.strategy"), std::string::npos) << st.message();
  Membership single;
  EXPECT_TRUE(s.source->set_membership(single).is_ok());  // one process: any strategy
}

// Two processes of a `tasks: single` pipeline in one group would each read part of the
// input and think it whole: the process that loses partitions to a newcomer stops, loudly,
// and a newcomer given part of the partitions is refused.
TEST(KafkaGroup, ASingleTaskProcessThatLosesPartitionsToANewcomerStops) {
  Cluster c(2);
  const std::string group = unique_name("g");
  GroupSource a(c, group, "  group_instance_id: a\n"), b(c, group, "  group_instance_id: b\n");
  ASSERT_TRUE(a.source->set_membership({}).is_ok());
  ASSERT_TRUE(b.source->set_membership({}).is_ok());
  ASSERT_TRUE(a.source->open({}).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a).is_ok());
        return kafka(a).assigned().size() == 6;
      },
      30s, 0ms));
  ASSERT_TRUE(b.source->open({}).is_ok());
  core::Status ea;
  ASSERT_TRUE(wait_until(
      [&] {
        ea = pump(a);
        (void)pump(b);  // may be refused as well (see below)
        return !ea.is_ok();
      },
      30s, 0ms));
  EXPECT_EQ(ea.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(ea.message().find("pipeline.tasks: single"), std::string::npos) << ea.message();
  EXPECT_NE(ea.message().find(group), std::string::npos) << ea.message();
  EXPECT_NE(ea.message().find("pipeline.tasks: partitions"), std::string::npos) << ea.message();
  // The newcomer is refused too when its first assignment was partial (depending on when
  // the first one stopped); else it holds every partition once the first one left.
  a.source.reset();  // the refused process exits and leaves the group
  core::Status eb;
  ASSERT_TRUE(wait_until(
      [&] {
        eb = pump(b);
        return !eb.is_ok() || kafka(b).assigned().size() == 6;
      },
      30s, 0ms))
      << kafka(b).assigned().size();
  if (!eb.is_ok()) {
    EXPECT_NE(eb.message().find("assigned this process 0 of 6"), std::string::npos) << eb.message();
  }
}

// Partitions lost with the session (the brokers away past the session timeout) are not
// another process's doing: a single-task process rejoins and goes on.
TEST(KafkaGroup, ASingleTaskProcessWhoseSessionExpiredGoesOn) {
  Cluster c(2);
  auto sent = testing::emulate(c, 40, 6, 0);
  GroupSource s(c, unique_name("g"));
  ASSERT_TRUE(s.source->set_membership({}).is_ok());
  ASSERT_TRUE(s.source->open({}).is_ok());
  size_t got = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(s, &got).is_ok());
        return got == sent.size() && s.source->drained();
      },
      30s, 0ms));
  const int64_t before = kafka(s).rebalances();
  ASSERT_TRUE(c.mock->set_broker_down(1, true).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(s).is_ok());
        return kafka(s).rebalances() > before;  // the assignment was lost
      },
      30s, 0ms));
  ASSERT_TRUE(c.mock->set_broker_down(1, false).is_ok());
  auto more = testing::emulate(c, 20, 7, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(s, &got).is_ok());
        return got == sent.size() + more.size() && kafka(s).assigned().size() == 6;
      },
      60s, 0ms))
      << got;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(pump(s).is_ok());  // and it stays
}

// Until task hand-off, a task that was read stays with its reader: when the group moves one
// away the reader stops; the new owner asks before reading a partition from its start, and
// holds a refused one paused (a daemon goes on with its other partitions) or, in a bounded
// run, fails.
TEST(KafkaGroup, AMovedTaskStopsItsReaderAndTheNewOwnerHoldsWhatItMayNotRead) {
  Cluster c(2);
  testing::emulate(c, 60, 3, 0);
  const std::string group = unique_name("g");
  GroupSource a(c, group, "  group_instance_id: a\n"), b(c, group, "  group_instance_id: b\n");
  ASSERT_TRUE(a.source->set_membership(partitions_mode("/data/a")).is_ok());
  std::set<std::string> asked;
  Membership mb = partitions_mode("/data/b");
  mb.may_start_fresh = [&asked](const std::string& id) {
    asked.insert(id);
    return core::Status::internal("task of " + id + " is committed elsewhere");
  };
  ASSERT_TRUE(b.source->set_membership(mb).is_ok());
  ASSERT_TRUE(a.source->open({}).is_ok());
  size_t got = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(pump(a, &got).is_ok());
        return got > 0 && a.source->drained();
      },
      30s, 0ms));
  EXPECT_EQ(got, 180u);
  ASSERT_TRUE(b.source->open({}).is_ok());
  core::Status ea;
  size_t got_b = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        if (ea.is_ok()) ea = pump(a);
        EXPECT_TRUE(pump(b, &got_b).is_ok());
        return !ea.is_ok() && !kafka(b).assigned().empty();
      },
      30s, 0ms))
      << ea.to_string();
  EXPECT_NE(ea.message().find("moved partitions this process has read"), std::string::npos)
      << ea.message();
  EXPECT_EQ(asked, kafka(b).assigned());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(pump(b, &got_b).is_ok());
  EXPECT_EQ(got_b, 0u);  // held: nothing read from its start
  EXPECT_FALSE(b.source->drained());

  // The same refusal fails a bounded run (it could not read everything).
  GroupSource bounded(c, unique_name("g"));
  bounded.source->set_bounded(true);
  ASSERT_TRUE(bounded.source->set_membership(mb).is_ok());
  ASSERT_TRUE(bounded.source->open({}).is_ok());
  core::Status eb;
  ASSERT_TRUE(wait_until(
      [&] {
        eb = pump(bounded);
        return !eb.is_ok();
      },
      30s, 0ms));
  EXPECT_NE(eb.message().find("committed elsewhere"), std::string::npos) << eb.message();
}

}  // namespace
}  // namespace pinstream::connectors::kafka
