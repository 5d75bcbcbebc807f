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
  std::vector<int64_t> xs = {
      std::numeric_limits<int64_t>::min(), -1000000, -1, 0, 1, 255, 256, 70000,
      std::numeric_limits<int64_t>::max()};
  for (size_t i = 1; i < xs.size(); ++i)
    EXPECT_LT(enc(Value::of_long(xs[i - 1])), enc(Value::of_long(xs[i])))
        << xs[i - 1] << " vs " << xs[i];
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
  core::Row row = {Value::of_long(-5),
                   Value(),
                   Value::of_string(std::string("x\0y", 3)),
                   Value::of_double(2.5),
                   Value::of_bool(true),
                   Value::of_timestamp(1600000000000000),
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

TEST(Codec, PackedHistogramsMergeBySummingEqualValuesInOrder) {
  std::string a, b, merged;
  put_histogram(a, {{"a", 1}, {"c", 2}, {"e", 5}});
  put_histogram(b, {{"b", 7}, {"c", 3}, {"f", 1}});
  ASSERT_TRUE(merge_histograms(a, b, merged));
  std::vector<std::pair<std::string, int64_t>> got;
  ASSERT_TRUE(for_each_histogram_entry(
      merged, [&](std::string_view v, int64_t n) { got.emplace_back(v, n); }));
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{
                     {"a", 1}, {"b", 7}, {"c", 5}, {"e", 5}, {"f", 1}}));
  std::string empty, again;
  put_histogram(empty, {});
  ASSERT_TRUE(merge_histograms(empty, a, again));
  EXPECT_EQ(again, a);
}

TEST(Codec, MalformedPackedHistogramsAreRejected) {
  std::string a;
  put_histogram(a, {{"abc", 4}});
  std::string out;
  auto count = [](std::string_view p) {
    return for_each_histogram_entry(p, [](std::string_view, int64_t) {});
  };
  EXPECT_FALSE(count(a.substr(0, a.size() - 1)));  // truncated count
  EXPECT_FALSE(count(a.substr(0, 3)));             // truncated length
  EXPECT_FALSE(count("x" + a.substr(1)));          // not a histogram
  EXPECT_FALSE(merge_histograms(a, a.substr(0, a.size() - 2), out));
  std::string counter;
  put_i64(counter, 3);
  EXPECT_FALSE(is_histogram(counter)) << "an 8-byte counter must not pass for a histogram";
}

}  // namespace
}  // namespace pinstream::state
