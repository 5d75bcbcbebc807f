// The remote sources' connection settings: connect timeout and static membership keys are
// read with their defaults, rejected when wrong (naming the key), and the reachability
// clock fails a run only when it should.
#include <gtest/gtest.h>

#include <cstdlib>

#include "connectors/kafka/kafka_settings.h"
#include "connectors/kinesis/kinesis_source.h"
#include "connectors/reachability.h"
#include "stream/core/config.h"

namespace pinstream::connectors {
namespace {
using namespace std::chrono_literals;

struct Parsed {
  core::ConfigNode root;
  std::vector<StreamBinding> bindings;
  explicit Parsed(const std::string& yaml) {
    root = *core::parse_config_text(yaml, "test.yaml");
    bindings.push_back({0, "pin", root.find("streams")->find("pin")});
  }
  const core::ConfigNode* settings() const { return root.find("settings"); }
};

core::Result<kafka::KafkaSettings> kafka_settings(const std::string& settings) {
  Parsed p("settings: {bootstrap_servers: \"127.0.0.1:1\", group_id: g" + settings +
           "}\nstreams: {pin: {topic: t}}\n");
  return kafka::read_settings(p.bindings, p.settings());
}

TEST(KafkaSettings, DefaultsToStaticMembershipAShortSessionAndAThirtySecondConnectTimeout) {
  auto s = kafka_settings("");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->connect_timeout, 30000ms);
  EXPECT_EQ(s->props.at("group.instance.id").rfind("g-", 0), 0u)
      << s->props.at("group.instance.id");
  EXPECT_EQ(s->props.at("session.timeout.ms"), "6000");
  EXPECT_EQ(s->topics.at("t"), 0u);
}

TEST(KafkaSettings, ReadsConnectTimeoutAndInstanceIdAndLetsPropertiesOverride) {
  auto s = kafka_settings(
      ", connect_timeout_ms: 2000, group_instance_id: host-a, "
      "properties: {session.timeout.ms: \"10000\"}");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->connect_timeout, 2000ms);
  EXPECT_EQ(s->props.at("group.instance.id"), "host-a");
  EXPECT_EQ(s->props.at("session.timeout.ms"), "10000");
}

// Several members of one group on one host (tests, or a big machine) must not share an id:
// the runtime makes the host default unique per data directory (Source::set_membership).
TEST(KafkaSettings, InstanceIdComesFromTheKeyThenTheEnvironmentThenTheHostAndDataDir) {
  ASSERT_EQ(::setenv("PINSTREAM_INSTANCE_ID", "member-7", 1), 0);
  auto from_env = kafka_settings("");
  auto from_key = kafka_settings(", group_instance_id: host-a");
  ASSERT_EQ(::unsetenv("PINSTREAM_INSTANCE_ID"), 0);
  auto from_host = kafka_settings("");
  ASSERT_TRUE(from_env && from_key && from_host);
  EXPECT_EQ(from_env->props.at("group.instance.id"), "member-7");
  EXPECT_FALSE(from_env->instance_from_host);
  EXPECT_EQ(from_key->props.at("group.instance.id"), "host-a");
  EXPECT_FALSE(from_key->instance_from_host);
  EXPECT_TRUE(from_host->instance_from_host);
  EXPECT_EQ(from_host->props.at("group.instance.id"),
            kafka::default_instance_id("g", kafka::host_name()));
  // The runtime's default: stable for one data directory, distinct for two.
  const std::string a = kafka::member_instance_id("g", "h", "/srv/a");
  EXPECT_EQ(a, kafka::member_instance_id("g", "h", "/srv/a"));
  EXPECT_NE(a, kafka::member_instance_id("g", "h", "/srv/b"));
  EXPECT_EQ(a.rfind("g-h-", 0), 0u) << a;
  EXPECT_EQ(a.size(), std::string("g-h-").size() + 8) << a;
}

TEST(KafkaSettings, AnEmptyInstanceIdTurnsStaticMembershipOff) {
  auto s = kafka_settings(", group_instance_id: \"\"");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->props.count("group.instance.id"), 0u);
}

TEST(KafkaSettings, PartitionsAllSkipsTheGroupJoinAndItsStaticMembership) {
  auto group = kafka_settings(", group_instance_id: host-a");
  ASSERT_TRUE(group.has_value()) << group.error().to_string();
  EXPECT_FALSE(group->all_partitions);
  auto all = kafka_settings(", partitions: all, group_instance_id: host-a");
  ASSERT_TRUE(all.has_value()) << all.error().to_string();
  EXPECT_TRUE(all->all_partitions);
  EXPECT_EQ(all->props.count("group.instance.id"), 0u);
  EXPECT_EQ(all->props.at("group.id"), "g");  // offsets are still committed under the group
  auto bad = kafka_settings(", partitions: some");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("partitions"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("test.yaml:1"), std::string::npos) << bad.error().message();
}

TEST(KafkaSettings, RejectsABadConnectTimeoutAndUnknownKeysNamingThem) {
  for (const char* bad :
       {", connect_timeout_ms: 0", ", connect_timeout_ms: -5", ", connect_timeout_ms: soon"}) {
    auto s = kafka_settings(bad);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_NE(s.error().message().find("connect_timeout_ms"), std::string::npos)
        << s.error().message();
    EXPECT_NE(s.error().message().find("test.yaml:1"), std::string::npos) << s.error().message();
  }
  auto typo = kafka_settings(", connect_timeout: 5");
  ASSERT_FALSE(typo.has_value());
  EXPECT_NE(typo.error().message().find("connect_timeout"), std::string::npos)
      << typo.error().message();
}

TEST(KafkaSettings, MaxIdleWaitDefaultsTo200MsTakesZeroAndRejectsANegativeOneNamingIt) {
  auto dflt = kafka_settings("");
  ASSERT_TRUE(dflt.has_value()) << dflt.error().message();
  EXPECT_EQ(dflt->max_idle_wait.count(), 200);
  auto zero = kafka_settings(", max_idle_wait_ms: 0");
  ASSERT_TRUE(zero.has_value()) << zero.error().message();
  EXPECT_EQ(zero->max_idle_wait.count(), 0);
  for (const char* bad : {", max_idle_wait_ms: -1", ", max_idle_wait_ms: later"}) {
    auto s = kafka_settings(bad);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_NE(s.error().message().find("max_idle_wait_ms"), std::string::npos)
        << s.error().message();
    EXPECT_NE(s.error().message().find("test.yaml:1"), std::string::npos) << s.error().message();
  }
}

TEST(KafkaSettings, TheDefaultInstanceIdKeepsOnlyCharactersKafkaAccepts) {
  EXPECT_EQ(kafka::default_instance_id("pinstream-pinterest", "ip-10-0-0-1.ec2.internal"),
            "pinstream-pinterest-ip-10-0-0-1.ec2.internal");
  EXPECT_EQ(kafka::default_instance_id("my group", "h:1"), "my_group-h_1");
  EXPECT_EQ(kafka::default_instance_id(std::string(300, 'g'), "h").size(), 249u);
}

TEST(KinesisSettings, ReadsConnectTimeoutAndRejectsABadOne) {
  Parsed good(
      "settings: {endpoint: \"http://127.0.0.1:1\", connect_timeout_ms: 1500}\nstreams: {pin: "
      "{stream: s}}\n");
  auto built = kinesis::make_source(good.bindings, good.settings());
  EXPECT_TRUE(built) << built.error().to_string();
  for (const char* bad : {"0", "-1", "x"}) {
    Parsed p(std::string("settings: {connect_timeout_ms: ") + bad +
             "}\nstreams: {pin: {stream: s}}\n");
    auto refused = kinesis::make_source(p.bindings, p.settings());
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message().find("connect_timeout_ms"), std::string::npos)
        << refused.error().message();
  }
}

TEST(Reachability, FailsAfterTheTimeoutWhenNeverReachedWhateverTheMode) {
  Reachability r("Kafka at h:1", "check it", 2000ms);
  const auto t0 = Reachability::Clock::time_point{} + 1h;
  r.start(t0);
  r.failed(t0 + 100ms, "Connection refused");
  EXPECT_TRUE(r.check(t0 + 1999ms, false).is_ok());
  core::Status st = r.check(t0 + 2000ms, false);
  ASSERT_FALSE(st.is_ok());
  EXPECT_FALSE(st.retryable());
  EXPECT_EQ(st.message(), "Kafka at h:1 unreachable for 2 s: Connection refused; check it");
}

TEST(Reachability, ALostSourceFailsOnlyABoundedRunAndOnlyAfterAWholeTimeoutWithoutAnswer) {
  Reachability r("Kinesis at http://e", "check it", 1500ms);
  const auto t0 = Reachability::Clock::time_point{} + 1h;
  r.start(t0);
  r.answered();
  EXPECT_FALSE(r.down());
  r.failed(t0 + 10s, "timeout");
  EXPECT_TRUE(r.down());
  EXPECT_TRUE(r.check(t0 + 11s, true).is_ok());
  EXPECT_TRUE(r.check(t0 + 12s, false).is_ok());  // the daemon retries
  core::Status st = r.check(t0 + 12s, true);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), "Kinesis at http://e unreachable for 1500 ms: timeout; check it");
  r.failed(t0 + 13s, "again");  // still down since t0 + 10 s
  r.answered();
  EXPECT_TRUE(r.check(t0 + 20s, true).is_ok());
  r.failed(t0 + 30s, "x");  // a new outage starts its own clock
  EXPECT_TRUE(r.check(t0 + 31s, true).is_ok());
}

}  // namespace
}  // namespace pinstream::connectors
