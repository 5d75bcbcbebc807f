#include "connectors/aws/msk_iam.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace pinstream::connectors::aws {
namespace {

std::string botocore_token(const Credentials& c, const std::string& region, int64_t seconds) {
  std::string cmd = std::string("/usr/bin/python3 ") + PINSTREAM_MSK_BOTOCORE_SCRIPT + " '" +
                    c.access_key_id + "' '" + c.secret_access_key + "' '" +
                    (c.session_token.empty() ? "-" : c.session_token) + "' " + region + " " +
                    std::to_string(seconds) + " '" + kMskUserAgent + "'";
  std::string out;
  int rc = testing::run_command(cmd, &out, /*merge_stderr=*/false);
  EXPECT_EQ(rc, 0) << cmd;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(MskIamToken, EqualsBotocoreSigV4QueryAuthByteForByte) {
  const int64_t seconds = 1764452280;
  const auto now = std::chrono::system_clock::from_time_t(seconds);
  for (const auto& [creds, region] : std::vector<std::pair<Credentials, std::string>>{
           {{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""}, "us-east-1"},
           {{"ASIATEMP", "s3cr3t+/=", "FwoGZXIvYXdzEJr//////////wEaDN+token/with=chars", {}, ""},
            "eu-west-1"}}) {
    MskToken t = msk_iam_token(creds, region, now);
    EXPECT_EQ(t.token, botocore_token(creds, region, seconds))
        << msk_iam_signed_url(creds, region, now);
    EXPECT_EQ(t.expiry_ms, (seconds + 900) * 1000);
    EXPECT_EQ(t.token.find('='), std::string::npos);
    EXPECT_EQ(t.token.find('+'), std::string::npos);
  }
}

TEST(MskIamToken, SignedUrlCarriesActionExpiryAndUserAgent) {
  Credentials c{"AKID", "secret", "", {}, ""};
  std::string url = msk_iam_signed_url(c, "us-west-2", std::chrono::system_clock::from_time_t(0));
  EXPECT_EQ(url.rfind("https://kafka.us-west-2.amazonaws.com/?Action=kafka-cluster%3AConnect&", 0),
            0u);
  EXPECT_NE(url.find("&X-Amz-Expires=900&"), std::string::npos);
  EXPECT_NE(url.find("&User-Agent=pinstream-msk-iam-signer%2F1.0"), std::string::npos);
  EXPECT_EQ(url.find("X-Amz-Security-Token"), std::string::npos);
}

}  // namespace
}  // namespace pinstream::connectors::aws
