#include "state/int_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace pinstream::state {
namespace {

TEST(IntMap, AgreesWithUnorderedMapOverRandomInsertsAndErases) {
  IntMap m;
  std::unordered_map<int64_t, uint32_t> want;
  std::mt19937_64 rng(7);
  // Keys from a small range (many collisions, erases inside runs) and extreme values.
  auto key = [&] {
    switch (rng() % 4) {
      case 0:
        return static_cast<int64_t>(rng() % 64) * (int64_t{1} << 54);  // same high bits
      case 1:
        return static_cast<int64_t>(rng());
      default:
        return static_cast<int64_t>(rng() % 5000) - 2500;
    }
  };
  for (uint32_t step = 0; step < 200000; ++step) {
    const int64_t k = key();
    const bool present = want.count(k) != 0;
    ASSERT_EQ(m.find(k), present ? want[k] : IntMap::kNone) << "step " << step;
    if (present && rng() % 3 != 0) {
      m.erase(k);
      want.erase(k);
    } else if (!present) {
      m.insert(k, step);
      want[k] = step;
    }
    ASSERT_EQ(m.size(), want.size());
  }
  for (const auto& [k, v] : want) EXPECT_EQ(m.find(k), v);
  m.erase(123456789);  // absent: no change
  EXPECT_EQ(m.size(), want.size());
}

TEST(IntMap, EmptyMapFindsNothing) {
  IntMap m;
  EXPECT_EQ(m.find(0), IntMap::kNone);
  m.erase(0);
  EXPECT_EQ(m.size(), 0u);
}

}  // namespace
}  // namespace pinstream::state
