// Kinesis takes its credentials from the shared AWS chain (connectors/aws/credentials.h),
// here the ECS container endpoint faked on loopback: the source reads kinesalite with them,
// and temporary credentials are fetched again before they expire and used by the next call.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "tests/integration/kinesis/kinesis_test_util.h"
#include "tests/support/http_stub.h"
#include "tests/support/kinesis_emulator.h"

namespace pinstream::testing {
namespace {

const char* const kAwsVars[] = {"AWS_ACCESS_KEY_ID",
                                "AWS_SECRET_ACCESS_KEY",
                                "AWS_SESSION_TOKEN",
                                "AWS_PROFILE",
                                "AWS_DEFAULT_PROFILE",
                                "AWS_SHARED_CREDENTIALS_FILE",
                                "AWS_CONFIG_FILE",
                                "AWS_WEB_IDENTITY_TOKEN_FILE",
                                "AWS_ROLE_ARN",
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                "AWS_EC2_METADATA_DISABLED",
                                "HOME"};

// Only the ECS endpoint has credentials; the environment is restored afterwards.
class EcsCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kAwsVars)
      if (const char* old = std::getenv(v)) saved_[v] = old;
    for (const char* v : kAwsVars) ::unsetenv(v);
    ::setenv("HOME", home_.path().c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (ecs_.endpoint() + "/v2/creds").c_str(), 1);
  }
  void TearDown() override {
    for (const char* v : kAwsVars) ::unsetenv(v);
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  // Credentials number n (ASIAECS<n>), expiring `seconds_left` from now.
  static std::string answer(int n, long seconds_left) {
    std::time_t at = std::time(nullptr) + seconds_left;
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&at));
    return R"({"AccessKeyId":"ASIAECS)" + std::to_string(n) +
           R"(","SecretAccessKey":"ecs-secret","Token":"ecs-token","Expiration":")" + buf + "\"}";
  }

  TempDir home_{"ps-kin-creds"};
  std::atomic<int> served_{0};
  std::atomic<long> seconds_left_{3600};
  HttpStub ecs_{[this](const StubRequest&) {
    return StubResponse{200, answer(++served_, seconds_left_)};
  }};
  std::map<std::string, std::string> saved_;
};

TEST_F(EcsCredentials, TheSourceReadsKinesaliteWithCredentialsFromTheContainerEndpoint) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
  ASSERT_TRUE(emu) << error;
  SetUp();  // the emulator's start set static keys: only the ECS endpoint again
  auto api = make_api(emu->endpoint());
  ASSERT_TRUE(api);
  const std::string stream = unique_name("kin-ecs");
  create_stream(*api, stream, 1);
  std::vector<KRecord> want;
  for (int i = 0; i < 5; ++i)
    want.push_back(put_record(*api, stream, std::to_string(i), "r" + std::to_string(i)));
  auto built = build_source(emu->endpoint(), {stream});
  ASSERT_TRUE(built->source->open({}).is_ok());
  expect_exactly_once_in_order(consume(*built->source, want.size()), want);
  EXPECT_GE(served_.load(), 1);
  EXPECT_EQ(std::getenv("AWS_ACCESS_KEY_ID"), nullptr) << "no static keys were used";
}

TEST_F(EcsCredentials, TemporaryCredentialsAreRenewedBeforeTheyExpireAndSignTheNextCall) {
  std::mutex mu;
  std::vector<std::string> auth;  // Authorization headers the fake Kinesis saw
  HttpStub kinesis([&](const StubRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    auth.push_back(r.header("Authorization"));
    return StubResponse{200, R"({"Shards":[]})"};
  });
  // Expiring just after the refresh margin: the chain asks again about five seconds from now (whole
  // seconds in the expiry; a slow start must not make the first call late).
  seconds_left_ =
      std::chrono::duration_cast<std::chrono::seconds>(connectors::aws::kRefreshMargin).count() + 5;
  auto api = make_api(kinesis.endpoint());
  ASSERT_TRUE(api);
  std::vector<kin::ShardInfo> shards;
  ASSERT_TRUE(api->list_shards("s", shards).ok());
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(api->list_shards("s", shards).ok());
        std::lock_guard<std::mutex> lock(mu);
        return auth.back().find("Credential=ASIAECS2/") != std::string::npos;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(200)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(auth.front().find("Credential=ASIAECS1/"), std::string::npos) << auth.front();
  EXPECT_EQ(auth.back().find("ecs-secret"), std::string::npos);
}

TEST_F(EcsCredentials, NoCredentialsAnywhereIsAConfigErrorSayingWhatWasTried) {
  ::unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  kin::ApiConfig c;
  c.endpoint = "http://127.0.0.1:1";
  auto api = kin::Api::create(c);
  ASSERT_FALSE(api.has_value());
  EXPECT_EQ(api.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(api.error().message().find("Kinesis needs AWS credentials"), std::string::npos)
      << api.error().message();
}

}  // namespace
}  // namespace pinstream::testing
