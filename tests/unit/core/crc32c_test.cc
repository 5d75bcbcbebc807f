#include "stream/core/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace pinstream::core {
namespace {

TEST(Crc32c, MatchesTheKnownCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's check value
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c_hex(0xE3069283u), "e3069283");
}

TEST(Crc32c, ExtendingInPiecesEqualsOneRun) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  uint32_t c = 0;
  for (size_t at = 0; at < data.size(); at += 13)
    c = crc32c_extend(c, data.data() + at, std::min<size_t>(13, data.size() - at));
  EXPECT_EQ(c, crc32c(data));
}

}  // namespace
}  // namespace pinstream::core
