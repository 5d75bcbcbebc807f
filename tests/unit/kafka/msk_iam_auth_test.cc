#include "connectors/kafka/msk_iam_auth.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "connectors/aws/msk_iam.h"
#include "connectors/kafka/kafka_conf.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

using std::chrono::system_clock;

void on_refresh(rd_kafka_t* rk, const char*, void* opaque) {
  static_cast<MskIamAuth*>(opaque)->refresh(rk);
}

// A consumer configured as source.kafka.auth: msk-iam configures it, pointed at nothing:
// librdkafka asks for a token as soon as it starts, before any connection.
rd_kafka_t* consumer_with(MskIamAuth* auth) {
  std::map<std::string, std::string> props = {{"bootstrap.servers", "127.0.0.1:1"},
                                              {"group.id", testing::unique_name("msk")}};
  EXPECT_TRUE(MskIamAuth::apply_properties(props).is_ok());
  auto conf = make_conf(props);
  EXPECT_TRUE(conf.has_value());
  MskIamAuth::prepare(*conf, &on_refresh);
  rd_kafka_conf_set_opaque(*conf, auth);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  EXPECT_TRUE(MskIamAuth::start(rk).is_ok());
  return rk;
}

TEST(MskIamAuth, SetsSaslSslOauthbearerAndRefusesAConflictingProtocol) {
  std::map<std::string, std::string> props;
  ASSERT_TRUE(MskIamAuth::apply_properties(props).is_ok());
  EXPECT_EQ(props["security.protocol"], "SASL_SSL");
  EXPECT_EQ(props["sasl.mechanism"], "OAUTHBEARER");
  props["sasl.mechanism"] = "SCRAM-SHA-512";
  core::Status s = MskIamAuth::apply_properties(props);
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sasl.mechanism"), std::string::npos);
}

TEST(MskIamAuth, LibrdkafkaRefreshCallbackGetsTheMskTokenBoundedByTheCredentials) {
  // librdkafka refuses an expired token: a fixed clock, but near the real one.
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(system_clock::now());
  aws::Credentials creds{"ASIAX", "secret", "session", now + std::chrono::minutes(10), "test"};
  MskIamAuth auth("eu-west-1", aws::static_credentials(creds), [&] { return now; });
  rd_kafka_t* rk = consumer_with(&auth);
  ASSERT_TRUE(testing::wait_until([&] { return auth.refreshes() >= 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(auth.last_token(), aws::msk_iam_token(creds, "eu-west-1", now).token);
  // The credentials expire in 10 minutes, before the token's 15: the lifetime follows them.
  EXPECT_EQ(auth.last_expiry_ms(),
            (now.time_since_epoch() / std::chrono::seconds(1) + 600) * int64_t{1000});
  EXPECT_EQ(auth.failures(), 0);
  rd_kafka_destroy(rk);
}

TEST(MskIamAuth, MissingCredentialsAreReportedToLibrdkafkaAsAFailure) {
  class NoCredentials : public aws::CredentialsProvider {
   public:
    core::Result<aws::Credentials> get() override {
      return core::Status::invalid("no AWS credentials found");
    }
  };
  MskIamAuth auth("us-east-1", std::make_shared<NoCredentials>());
  rd_kafka_t* rk = consumer_with(&auth);
  ASSERT_TRUE(testing::wait_until([&] { return auth.failures() >= 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(auth.refreshes(), 0);
  rd_kafka_destroy(rk);
}

}  // namespace
}  // namespace pinstream::connectors::kafka
