#include "state/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace pinstream::state {
namespace {
using core::Value;

std::string enc(const Value& v) {
  std::string s;
  encode_value(s, v);
  return s;
}

TEST(Codec, LongsEncodeInNumericOrder) {
  std::vector<int64_t> xs = {std::numeric_limits<int64_t>::min(), -1000000, -1, 0, 1, 255, 256, 70000,
                             std::numeric_limits<int64_t>::max()};
  for (size_t i = 1; i < xs.size(); ++i)
    EXPECT_LT(enc(Value::of_long(xs[i - 1])), enc(Value::of_long(xs[i]))) << xs[i - 1] << " vs " << xs[i];
}

TEST(Codec, DoublesEncodeInNumericOrder) {
  std::vector<double> xs = {-1e300, -2.5, -0.0001, 0.0, 1e-9, 3.25, 1e300};
  for (size_t i = 1; i < xs.size(); ++i)
    EXPECT_LT(enc(Value::of_double(xs[i - 1])), enc(Value::of_double(xs[i])));
}

TEST(Codec, StringsEncodeInByteOrderEvenWithPrefixesAndNulBytes) {
  std::vector<std::string> xs = {"", std::string("a\0", 2), std::string("a\0b", 3), "a", "ab", "b"};
  std::sort(xs.begin(), xs.end());
  for (size_t i = 1; i < xs.size(); ++i)
    EXPECT_LT(enc(Value::of_string(xs[i - 1])), enc(Value::of_string(xs[i])));
  // A composite key (string, long) keeps the string order first.
  std::string k1 = enc(Value::of_string("a")) + enc(Value::of_long(99));
  std::string k2 = enc(Value::of_string("ab")) + enc(Value::of_long(1));
  EXPECT_LT(k1, k2);
}

TEST(Codec, NullSortsBeforeEveryValue) {
  EXPECT_LT(enc(Value()), enc(Value::of_long(std::numeric_limits<int64_t>::min())));
  EXPECT_LT(enc(Value()), enc(Value::of_string("")));
}

TEST(Codec, RowsRoundTrip) {
  core::Row row = {Value::of_long(-5), Value(), Value::of_string(std::string("x\0y", 3)),
                   Value::of_double(2.5), Value::of_bool(true), Value::of_timestamp(1600000000000000),
                   Value::of_array({1.5, -2.0})};
  std::string s;
  encode_row(s, row);
  core::Row back;
  ASSERT_TRUE(decode_row(s, back));
  ASSERT_EQ(back.size(), row.size());
  for (size_t i = 0; i < row.size(); ++i) EXPECT_TRUE(back[i] == row[i]) << i;
  EXPECT_FALSE(decode_row(s.substr(0, s.size() - 1), back));
  EXPECT_FALSE(decode_row(s + "x", back));
}

}  // namespace
}  // namespace pinstream::state
