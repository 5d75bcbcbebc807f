// `source.kafka.auth: msk-iam` through the Kafka source: the settings it sets and refuses
// (file:line naming the key), and a consumer that gets its token from librdkafka's refresh
// callback without the token or the secret ever reaching a log line. librdkafka's mock
// cluster (2.0.2) answers no SaslHandshake, so the callback runs against an unreachable
// bootstrap address: librdkafka asks for the token before it connects.
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <mutex>

#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/producer.h"
#include "stream/core/config.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

struct Parsed {
  core::ConfigNode root;
  std::vector<StreamBinding> bindings;
  explicit Parsed(const std::string& source_yaml) {
    root = *core::parse_config_text("source:\n" + source_yaml + "streams:\n  s: {topic: t}\n",
                                    "test.yaml");
    bindings.push_back({0, "s", root.find("streams")->find("s"), 0});
  }
  const core::ConfigNode* settings() const { return root.find("source"); }
};

struct EnvScope {
  std::string name, old;
  bool had;
  EnvScope(const char* n, const char* v) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (o) old = o;
    v ? ::setenv(n, v, 1) : ::unsetenv(n);
  }
  ~EnvScope() { had ? ::setenv(name.c_str(), old.c_str(), 1) : ::unsetenv(name.c_str()); }
};

TEST(KafkaMskIam, AuthMskIamSetsSaslSslOauthbearerAndTheRegionFromTheEnvironment) {
  EnvScope region("AWS_REGION", "eu-west-3");
  Parsed p("  bootstrap_servers: b-1.example:9098\n  auth: msk-iam\n");
  auto s = read_settings(p.bindings, p.settings());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_TRUE(s->msk_iam);
  EXPECT_EQ(s->region, "eu-west-3");
  EXPECT_EQ(s->props["security.protocol"], "SASL_SSL");
  EXPECT_EQ(s->props["sasl.mechanism"], "OAUTHBEARER");
  Parsed q("  bootstrap_servers: b\n  auth: msk-iam\n  region: ap-south-1\n");
  EXPECT_EQ(read_settings(q.bindings, q.settings())->region, "ap-south-1");
  Parsed none("  bootstrap_servers: b\n");
  auto plain = read_settings(none.bindings, none.settings());
  EXPECT_FALSE(plain->msk_iam);
  EXPECT_EQ(plain->props.count("sasl.mechanism"), 0u);
}

TEST(KafkaMskIam, ABadAuthValueOrAConflictingPropertyIsAConfigErrorNamingTheKey) {
  struct Case {
    const char* yaml;
    const char* says;
  };
  for (const Case& c : {
           Case{"  bootstrap_servers: b\n  auth: iam\n", "must be none or msk-iam"},
           Case{"  bootstrap_servers: b\n  auth: msk-iam\n  properties: {sasl.mechanism: PLAIN}\n",
                "needs sasl.mechanism=OAUTHBEARER"},
           Case{"  bootstrap_servers: b\n  region: eu-west-1\n", "region"},
       }) {
    Parsed p(c.yaml);
    auto s = read_settings(p.bindings, p.settings());
    ASSERT_FALSE(s.has_value()) << c.yaml;
    EXPECT_EQ(s.error().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(s.error().message().find("test.yaml:"), std::string::npos) << s.error().message();
    EXPECT_NE(s.error().message().find(c.says), std::string::npos) << s.error().message();
  }
}

// Keeps every formatted line; read from the test thread while librdkafka's threads log.
class TextSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    text_.append(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

// Captures every log line while it lives, with static credentials in the environment.
struct Captured {
  EnvScope key{"AWS_ACCESS_KEY_ID", "AKIDMSKTEST"};
  EnvScope secret{"AWS_SECRET_ACCESS_KEY", "msk-secret-never-logged"};
  EnvScope token{"AWS_SESSION_TOKEN", nullptr};
  EnvScope profile{"AWS_PROFILE", nullptr};
  std::shared_ptr<TextSink> sink = std::make_shared<TextSink>();
  std::shared_ptr<spdlog::logger> old = spdlog::default_logger();
  std::string text() const { return sink->text(); }
  Captured() {
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~Captured() { spdlog::set_default_logger(old); }
  // Whether the logs say a token was set.
  bool refreshed() const { return text().find("MSK IAM token refreshed") != std::string::npos; }
  void expect_nothing_secret() const {
    const std::string all = text();
    for (const char* part : {"msk-secret-never-logged", "X-Amz-Signature", "X-Amz-Credential",
                             "aHR0cHM6Ly9rYWZrYS4" /* base64url("https://kafka.") */})
      EXPECT_EQ(all.find(part), std::string::npos) << part;
  }
};

TEST(KafkaMskIam, TheEmulatorsProducerAuthenticatesTheSameWay) {
  Captured c;
  auto p = Producer::create("127.0.0.1:1", {}, "us-west-2");
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_TRUE(testing::wait_until([&] { return c.refreshed(); }, std::chrono::seconds(10)))
      << c.text();
  EXPECT_NE(c.text().find("region=us-west-2"), std::string::npos) << c.text();
  p->reset();
  c.expect_nothing_secret();
  auto bad = Producer::create("127.0.0.1:1", {{"security.protocol", "PLAINTEXT"}}, "us-west-2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("security.protocol=SASL_SSL"), std::string::npos);
}

TEST(KafkaMskIam, TheConsumerGetsItsTokenFromTheCredentialChainAndNeverLogsIt) {
  std::string text;
  {
    Captured c;
    Parsed p("  bootstrap_servers: 127.0.0.1:1\n  group_id: " + testing::unique_name("msk") +
             "\n  auth: msk-iam\n  region: eu-west-1\n  connect_timeout_ms: 60000\n");
    auto built = make_source(p.bindings, p.settings());
    ASSERT_TRUE(built) << built.error().to_string();
    auto source = std::move(built).value();
    ASSERT_TRUE(source->open({}).is_ok());
    EXPECT_TRUE(testing::wait_until([&] { return c.refreshed(); }, std::chrono::seconds(10)))
        << c.text();
    source.reset();
    c.expect_nothing_secret();
    text = c.text();
  }
  EXPECT_NE(text.find("region=eu-west-1 source=environment"), std::string::npos) << text;
}

}  // namespace
}  // namespace pinstream::connectors::kafka
