#include "state/string_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace pinstream::state {
namespace {

using Map = std::map<std::string, int, std::less<>>;
struct KeyOf {
  std::string_view operator()(Map::iterator it) const { return it->first; }
};

// The index over a std::map's nodes, as the aggregates use it, against the map itself.
TEST(StringIndex, AgreesWithTheMapOverRandomInsertsAndErases) {
  Map map;
  StringIndex<Map::iterator, KeyOf> index;
  std::mt19937_64 rng(11);
  // Short keys, keys sharing long prefixes (window starts), empty and NUL-holding keys.
  auto key = [&] {
    switch (rng() % 4) {
      case 0:
        return std::string(rng() % 12, 'k');
      case 1:
        return std::string("\0\0\0\x01window-start", 16) + std::to_string(rng() % 300);
      default:
        return std::to_string(rng() % 3000);
    }
  };
  for (int step = 0; step < 100000; ++step) {
    const std::string k = key();
    auto want = map.find(k);
    Map::iterator* got = index.find(k);
    ASSERT_EQ(got != nullptr, want != map.end()) << "step " << step << " key " << k;
    if (got) {
      ASSERT_EQ(*got, want);
    }
    if (want != map.end() && rng() % 3 != 0) {
      index.erase(k);
      map.erase(want);
    } else if (want == map.end()) {
      index.insert(map.emplace(k, step).first);
    }
    ASSERT_EQ(index.size(), map.size());
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    Map::iterator* got = index.find(it->first);
    ASSERT_NE(got, nullptr) << it->first;
    EXPECT_EQ(*got, it);
  }
  index.erase("absent");  // no change
  EXPECT_EQ(index.size(), map.size());
}

}  // namespace
}  // namespace pinstream::state
