#include "stream/core/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace pinstream::core {
namespace {

TEST(Base64, DecodesTheRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"Zg==", "f"},
                                                         {"Zm8=", "fo"},
                                                         {"Zm9v", "foo"},
                                                         {"Zm9vYg==", "foob"},
                                                         {"Zm9vYmE=", "fooba"},
                                                         {"Zm9vYmFy", "foobar"}};
  for (const auto& [encoded, plain] : vectors) {
    std::string out = "stale";
    ASSERT_TRUE(base64_decode(encoded, out)) << encoded;
    EXPECT_EQ(out, plain);
    std::string back;
    base64_encode(plain, back);
    EXPECT_EQ(back, encoded);
  }
}

TEST(Base64, RoundTripsRandomBinaryOfEveryLengthUpTo300) {
  std::mt19937 rng(42);
  for (size_t len = 0; len <= 300; ++len) {
    std::string bytes(len, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    std::string encoded, decoded;
    base64_encode(bytes, encoded);
    ASSERT_TRUE(base64_decode(encoded, decoded)) << len;
    EXPECT_EQ(decoded, bytes) << len;
  }
}

TEST(Base64, RejectsBadLengthsCharactersAndMisplacedPadding) {
  std::string out;
  for (const char* bad :
       {"Zg=", "Zm9", "Zm9v!A==", "Z===", "=Zm9", "Zm=v", "Zm9v\nZm9v", "Zg==Zg=="})
    EXPECT_FALSE(base64_decode(bad, out)) << bad;
}

}  // namespace
}  // namespace pinstream::core
