#include "connectors/aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "connectors/aws/credential_sources.h"
#include "connectors/aws/sigv4.h"
#include "tests/support/http_stub.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::aws {
namespace {

using std::chrono::system_clock;
using testing::HttpStub;
using testing::StubRequest;
using testing::StubResponse;

const char* const kAwsVars[] = {"AWS_ACCESS_KEY_ID",
                                "AWS_SECRET_ACCESS_KEY",
                                "AWS_SESSION_TOKEN",
                                "AWS_PROFILE",
                                "AWS_SHARED_CREDENTIALS_FILE",
                                "AWS_CONFIG_FILE",
                                "AWS_WEB_IDENTITY_TOKEN_FILE",
                                "AWS_ROLE_ARN",
                                "AWS_ROLE_SESSION_NAME",
                                "AWS_ENDPOINT_URL_STS",
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                "AWS_EC2_METADATA_DISABLED",
                                "AWS_REGION",
                                "AWS_DEFAULT_REGION"};

// Every test starts from an environment without AWS settings, with files under a temp HOME
// and IMDS switched off unless the test points it at a stub.
class CredentialChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kAwsVars) ::unsetenv(v);
    ::setenv("HOME", home_.path().c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }
  void TearDown() override {
    for (const char* v : kAwsVars) ::unsetenv(v);
  }
  testing::TempDir home_{"pinstream-aws-home"};
};

std::string sts_answer(const std::string& key, const std::string& expiration) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
         "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>" +
         key +
         "</AccessKeyId><SecretAccessKey>sts-secret</SecretAccessKey><SessionToken>sts-token"
         "</SessionToken><Expiration>" +
         expiration +
         "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
         "</AssumeRoleWithWebIdentityResponse>";
}

TEST_F(CredentialChain, EnvironmentComesFirst) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  ::setenv("AWS_SESSION_TOKEN", "env-token", 1);
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->session_token, "env-token");
  EXPECT_EQ(c->source, "environment");
}

TEST_F(CredentialChain, IncompleteEnvironmentIsAnErrorWithoutTheSecret) {
  ::setenv("AWS_SECRET_ACCESS_KEY", "do-not-print-me", 1);
  auto c = default_credentials_chain()->get();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(c.error().message().find("do-not-print-me"), std::string::npos);
}

TEST_F(CredentialChain, NamedProfileFromSharedFilesAndRegionFromConfig) {
  testing::write_file(home_ / "creds",
                      "[default]\naws_access_key_id = AKIDDEFAULT\n"
                      "aws_secret_access_key = d\n\n[dev]\n"
                      "aws_access_key_id=AKIDDEV\naws_secret_access_key=dev-s\n");
  testing::write_file(home_ / "config", "[profile dev]\nregion = eu-central-1\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (home_ / "creds").c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (home_ / "config").c_str(), 1);
  ::setenv("AWS_PROFILE", "dev", 1);
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDDEV");
  EXPECT_EQ(c->secret_access_key, "dev-s");
  EXPECT_EQ(c->source, "profile dev");
  EXPECT_EQ(region_from_environment(), "eu-central-1");
  ::setenv("AWS_REGION", "ap-south-1", 1);
  EXPECT_EQ(region_from_environment(), "ap-south-1");
}

TEST_F(CredentialChain, DefaultProfileUnderHomeAndKeysInConfigFile) {
  std::filesystem::create_directories(home_ / ".aws");
  testing::write_file(home_ / ".aws/config",
                      "[default]\naws_access_key_id=AKIDCONF\naws_secret_access_key=c\n");
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDCONF");
}

TEST_F(CredentialChain, MissingNamedProfileIsAClearError) {
  ::setenv("AWS_PROFILE", "nowhere", 1);
  auto c = default_credentials_chain()->get();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(c.error().message().find("AWS_PROFILE=nowhere"), std::string::npos);
}

TEST_F(CredentialChain, NothingConfiguredListsWhatWasTried) {
  auto c = default_credentials_chain()->get();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("no AWS credentials found"), std::string::npos);
}

TEST_F(CredentialChain, WebIdentityAssumesRoleAndRenewsBeforeExpiry) {
  std::atomic<int> calls{0};  // written by the stub thread
  HttpStub sts([&](const StubRequest& r) {
    ++calls;
    EXPECT_EQ(r.method, "POST");
    EXPECT_NE(r.body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
    EXPECT_NE(r.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fingest"),
              std::string::npos);
    EXPECT_NE(r.body.find("WebIdentityToken=jwt-" + std::to_string(calls.load())),
              std::string::npos);
    return StubResponse{200,
                        sts_answer("ASIA" + std::to_string(calls.load()), "2030-01-01T01:00:00Z")};
  });
  testing::write_file(home_ / "token", "jwt-1\n");
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (home_ / "token").c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ingest", 1);
  ::setenv("AWS_ENDPOINT_URL_STS", sts.endpoint().c_str(), 1);
  system_clock::time_point expiry;
  ASSERT_TRUE(parse_iso8601("2030-01-01T01:00:00Z", &expiry));
  system_clock::time_point now = expiry - std::chrono::hours(1);
  auto chain = default_credentials_chain([&] { return now; });
  auto c = chain->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->session_token, "sts-token");
  EXPECT_EQ(c->expiration, expiry);
  now = expiry - kRefreshMargin - std::chrono::seconds(1);  // still fresh: cached
  EXPECT_EQ(chain->get()->access_key_id, "ASIA1");
  EXPECT_EQ(calls, 1);
  testing::write_file(home_ / "token", "jwt-2\n");          // the orchestrator rotated the token
  now = expiry - kRefreshMargin + std::chrono::seconds(1);  // inside the margin: renewed
  EXPECT_EQ(chain->get()->access_key_id, "ASIA2");
  EXPECT_EQ(calls, 2);
}

TEST_F(CredentialChain, StsRefusalCarriesTheCodeNotTheToken) {
  HttpStub sts([](const StubRequest&) {
    return StubResponse{403,
                        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                        "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
                        "</Message></Error></ErrorResponse>"};
  });
  testing::write_file(home_ / "token", "secret-jwt");
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (home_ / "token").c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
  ::setenv("AWS_ENDPOINT_URL_STS", sts.endpoint().c_str(), 1);
  auto c = default_credentials_chain()->get();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("AccessDenied"), std::string::npos) << c.error().message();
  EXPECT_EQ(c.error().message().find("secret-jwt"), std::string::npos);
}

TEST_F(CredentialChain, EcsContainerEndpointWithAuthorizationToken) {
  HttpStub ecs([](const StubRequest& r) {
    if (r.header("Authorization") != "ecs-auth") return StubResponse{401, ""};
    EXPECT_EQ(r.target, "/v2/credentials/abc");
    return StubResponse{200, R"({"AccessKeyId":"ASIAECS","SecretAccessKey":"ecs-s",)"
                             R"("Token":"ecs-t","Expiration":"2030-01-01T00:00:00Z"})"};
  });
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (ecs.endpoint() + "/v2/credentials/abc").c_str(),
           1);
  testing::write_file(home_ / "ecs-token", "ecs-auth\n");
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (home_ / "ecs-token").c_str(), 1);
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAECS");
  EXPECT_EQ(c->session_token, "ecs-t");
  EXPECT_EQ(c->source, "ecs");
  EXPECT_TRUE(c->expiration.has_value());
}

TEST_F(CredentialChain, Ec2ImdsV2TokenThenRoleThenCredentials) {
  HttpStub imds([](const StubRequest& r) {
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      if (r.header("X-aws-ec2-metadata-token-ttl-seconds").empty()) return StubResponse{400, ""};
      return StubResponse{200, "imds-session"};
    }
    if (r.header("X-aws-ec2-metadata-token") != "imds-session") return StubResponse{401, ""};
    if (r.target == "/latest/meta-data/iam/security-credentials/")
      return StubResponse{200, "web-role"};
    if (r.target == "/latest/meta-data/iam/security-credentials/web-role") {
      return StubResponse{200, R"({"Code":"Success","AccessKeyId":"ASIAEC2",)"
                               R"("SecretAccessKey":"ec2-s","Token":"ec2-t",)"
                               R"("Expiration":"2030-01-01T00:00:00Z"})"};
    }
    return StubResponse{404, ""};
  });
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint().c_str(), 1);
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAEC2");
  EXPECT_EQ(c->source, "imds");
  EXPECT_EQ(imds.requests().size(), 3u);
}

}  // namespace
}  // namespace pinstream::connectors::aws
