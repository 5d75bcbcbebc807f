#include "connectors/aws/sigv4.h"

#include <gtest/gtest.h>

namespace pinstream::connectors::aws {
namespace {

TEST(SigV4, Sha256OfEmptyIsTheWellKnownDigest) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, SigningKeyMatchesTheAwsDocumentationExample) {
  // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4".
  EXPECT_EQ(
      hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, UriEncodeKeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(uri_encode("a b/c~d_e.f-g+h=i:j", false), "a%20b%2Fc~d_e.f-g%2Bh%3Di%3Aj");
  EXPECT_EQ(uri_encode("dt=2024-01-01/part 0.json", true), "dt%3D2024-01-01/part%200.json");
  EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");
}

TEST(SigV4, CanonicalQuerySortsEncodedPairs) {
  EXPECT_EQ(canonical_query({{"prefix", "a/b"}, {"list-type", "2"}, {"continuation-token", "x+y"}}),
            "continuation-token=x%2By&list-type=2&prefix=a%2Fb");
}

TEST(SigV4, Base64AndBase64Url) {
  EXPECT_EQ(base64("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_nopad("\xfb\xff"), "-_8");
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(SigV4, FormatsAndParsesUtcTimes) {
  auto t = std::chrono::system_clock::from_time_t(1764452280);  // 2025-11-29T21:38:00Z
  EXPECT_EQ(amz_date(t), "20251129T213800Z");
  EXPECT_EQ(amz_day(t), "20251129");
  std::chrono::system_clock::time_point parsed;
  ASSERT_TRUE(parse_iso8601("2025-11-29T21:38:00Z", &parsed));
  EXPECT_EQ(parsed, t);
  ASSERT_TRUE(parse_iso8601("2025-11-29T21:38:00.123Z", &parsed));
  EXPECT_EQ(parsed, t);
  EXPECT_FALSE(parse_iso8601("yesterday", &parsed));
  EXPECT_FALSE(parse_iso8601("2025-11-29T21:38:00+02:00", &parsed));
}

}  // namespace
}  // namespace pinstream::connectors::aws
