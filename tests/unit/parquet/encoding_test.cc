// The RLE/bit-packing hybrid encoder against its decoder, on run shapes that exercise
// every branch (RLE runs, unaligned runs, short bit-packed tails, width 0).
#include "connectors/parquet/encoding.h"

#include <gtest/gtest.h>

#include <random>

namespace pinstream::connectors::parquet {
namespace {

std::vector<uint32_t> roundtrip(const std::vector<uint32_t>& v, int width) {
  std::string enc;
  encode_hybrid(enc, v, width);
  std::string_view in(enc);
  std::vector<uint32_t> out;
  EXPECT_TRUE(decode_hybrid(in, v.size(), width, out));
  EXPECT_TRUE(in.empty()) << "trailing bytes";
  return out;
}

TEST(HybridEncoding, RoundTripsRunsAndMixedSequencesAtEveryWidth) {
  std::mt19937 rng(7);
  for (int width : {1, 2, 3, 8, 13, 20}) {
    uint32_t limit = width >= 32 ? UINT32_MAX : (1u << width) - 1;
    std::vector<uint32_t> v;
    for (int block = 0; block < 200; ++block) {
      uint32_t x = static_cast<uint32_t>(rng() % (uint64_t{limit} + 1));
      size_t len = rng() % 3 == 0 ? 1 + rng() % 40 : 1 + rng() % 3;  // long runs and noise
      v.insert(v.end(), len, x);
    }
    EXPECT_EQ(roundtrip(v, width), v) << "width " << width;
  }
}

TEST(HybridEncoding, LongRunIsEncodedAsOneRleRun) {
  std::vector<uint32_t> v(100000, 1);
  std::string enc;
  encode_hybrid(enc, v, 1);
  EXPECT_LE(enc.size(), 4u);  // varint header + one value byte
  EXPECT_EQ(roundtrip(v, 1), v);
}

TEST(HybridEncoding, UnalignedRunAfterNoiseStillRoundTrips) {
  std::vector<uint32_t> v = {1, 0, 1};
  v.insert(v.end(), 30, 1);
  v.push_back(0);
  EXPECT_EQ(roundtrip(v, 1), v);
  std::vector<uint32_t> zeros(5, 0);
  EXPECT_EQ(roundtrip(zeros, 0), zeros);
}

TEST(HybridEncoding, LevelsCarryTheirByteLength) {
  std::string out;
  encode_levels(out, {1, 1, 0, 1}, 1);
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(get_le(out.data(), 4), out.size() - 4);
}

TEST(HybridEncoding, ALevelRunEncodesTheSameLevelsAsTheGeneralEncoder) {
  for (int max_level : {1, 2, 3, 300}) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{5000}}) {
      std::string run;
      encode_level_run(run, count, static_cast<uint32_t>(max_level), max_level);
      ASSERT_GE(run.size(), 4u);
      EXPECT_EQ(get_le(run.data(), 4), run.size() - 4);
      std::string_view in(run);
      in.remove_prefix(4);
      std::vector<uint32_t> out;
      EXPECT_TRUE(decode_hybrid(in, count, bit_width(static_cast<uint32_t>(max_level)), out));
      EXPECT_TRUE(in.empty());
      EXPECT_EQ(out, std::vector<uint32_t>(count, static_cast<uint32_t>(max_level)))
          << max_level << " x" << count;
    }
  }
}

}  // namespace
}  // namespace pinstream::connectors::parquet
