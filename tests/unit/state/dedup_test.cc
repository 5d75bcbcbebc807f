#include "state/dedup.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "tests/support/test_support.h"

namespace pinstream::state {
namespace {
using pinstream::testing::TempDir;

bool claim(Dedup& d, uint32_t stream, int64_t key) {
  auto r = d.claim(stream, key);
  EXPECT_TRUE(r.has_value());
  return r.has_value() && *r;
}

void commit(StateStore& store, Dedup& d) {
  StateStore::WriteBatch b;
  d.flush(b);
  ASSERT_TRUE(store.write(b).is_ok());
}

TEST(Dedup, FirstClaimPerStreamAndKeyWinsWithinAnEpoch) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Dedup d(*store);
  EXPECT_TRUE(claim(d, 0, 7));
  EXPECT_FALSE(claim(d, 0, 7));
  EXPECT_TRUE(claim(d, 1, 7)) << "streams are independent";
  EXPECT_TRUE(claim(d, 0, -7));
  EXPECT_TRUE(claim(d, 0, std::numeric_limits<int64_t>::min()))
      << "the set's sentinel is a valid key";
  EXPECT_FALSE(claim(d, 0, std::numeric_limits<int64_t>::min()));
}

TEST(Dedup, ClaimsSurviveFlushAndReopen) {
  TempDir dir;
  {
    auto store = std::move(StateStore::open((dir / "db").string())).value();
    Dedup d(*store);
    for (int64_t k = 0; k < 1000; ++k) EXPECT_TRUE(claim(d, 2, k));
    commit(*store, d);
    EXPECT_FALSE(claim(d, 2, 999)) << "committed claims are remembered in memory";
    EXPECT_TRUE(claim(d, 2, 1000));
    commit(*store, d);
  }
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Dedup d(*store);
  for (int64_t k = 0; k <= 1000; ++k) EXPECT_FALSE(claim(d, 2, k)) << k;
  EXPECT_TRUE(claim(d, 2, 1001));
  EXPECT_TRUE(claim(d, 0, 5));
  EXPECT_EQ(d.cached_keys(), 1001u);
}

TEST(Dedup, DiscardedClaimsAreForgottenAndNeverWritten) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Dedup d(*store);
  EXPECT_TRUE(claim(d, 0, 1));
  commit(*store, d);
  EXPECT_TRUE(claim(d, 0, 2));
  d.discard_pending();
  commit(*store, d);
  EXPECT_FALSE(claim(d, 0, 1));
  EXPECT_TRUE(claim(d, 0, 2));
  Dedup fresh(*store);
  EXPECT_TRUE(claim(fresh, 0, 2)) << "the discarded claim reached RocksDB";
}

TEST(Dedup, FallsBackToRocksDbPastTheMemoryBound) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  {
    Dedup d(*store);
    for (int64_t k = 0; k < 100; ++k) EXPECT_TRUE(claim(d, 0, k));
    commit(*store, d);
  }
  Dedup::Options small;
  small.max_cached_keys = 10;
  Dedup d(*store, small);
  for (int64_t k = 0; k < 100; ++k) EXPECT_FALSE(claim(d, 0, k)) << k;
  EXPECT_LE(d.cached_keys(), 10u);
  for (int64_t k = 100; k < 120; ++k) EXPECT_TRUE(claim(d, 0, k));
  commit(*store, d);
  for (int64_t k = 100; k < 120; ++k) EXPECT_FALSE(claim(d, 0, k)) << k;
}

TEST(Dedup, AnEpochsClaimsAreOneStateEntryPerStream) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Dedup d(*store);
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (int64_t k = 0; k < 1000; ++k) claim(d, 0, epoch * 1000 + k * 7 % 1000);
    claim(d, 1, epoch);
    StateStore::WriteBatch b;
    d.flush(b);
    EXPECT_EQ(b.count(), 2u) << "one packed chunk per stream, not one entry per claim";
    ASSERT_TRUE(store->write(b).is_ok());
  }
  size_t chunks = 0;
  ASSERT_TRUE(store->live()
                  .scan("D/", [&](std::string_view, std::string_view) { return ++chunks, true; })
                  .is_ok());
  EXPECT_EQ(chunks, 6u);
  Dedup reopened(*store);
  for (int64_t k = 0; k < 3000; ++k) ASSERT_FALSE(claim(reopened, 0, k)) << k;
  EXPECT_TRUE(claim(reopened, 0, 3000));
  EXPECT_FALSE(claim(reopened, 1, 2));
  EXPECT_TRUE(claim(reopened, 1, 3));
  StateStore::WriteBatch b;
  reopened.flush(b);
  ASSERT_TRUE(store->write(b).is_ok());
  Dedup again(*store);
  EXPECT_FALSE(claim(again, 0, 3000)) << "chunk ids continue after a reopen instead of overwriting";
  EXPECT_FALSE(claim(again, 0, 0));
}

TEST(KeySet, HoldsManyKeysThroughGrowth) {
  KeySet s;
  for (int64_t k = -50000; k < 50000; k += 3) EXPECT_TRUE(s.insert(k * 1000003));
  for (int64_t k = -50000; k < 50000; ++k)
    ASSERT_EQ(s.contains(k * 1000003), (k + 50000) % 3 == 0) << k;
  size_t n = s.size();
  EXPECT_FALSE(s.insert(-50000 * 1000003LL));
  EXPECT_EQ(s.size(), n);
  EXPECT_FALSE(s.contains(1));
  s.clear();
  EXPECT_FALSE(s.contains(-50000 * 1000003LL));
}

TEST(KeySet, DenseKeysStayBitmapsOfAFewKilobytes) {
  KeySet s;
  for (int64_t k = 0; k < 900000; ++k) ASSERT_TRUE(s.insert(k));
  EXPECT_FALSE(s.hashed());
  EXPECT_LT(s.memory_bytes(), 200u << 10);  // 14 blocks of 8 KiB; a hash set: 16 MiB
  EXPECT_EQ(s.size(), 900000u);
  for (int64_t k = -10; k < 900010; ++k) ASSERT_EQ(s.contains(k), k >= 0 && k < 900000) << k;
  EXPECT_FALSE(s.insert(899999));
  // Negative and extreme keys are keys like any other.
  for (int64_t k : {int64_t{-1}, int64_t{-65536}, int64_t{-65537},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    EXPECT_FALSE(s.contains(k)) << k;
    EXPECT_TRUE(s.insert(k)) << k;
    EXPECT_TRUE(s.contains(k)) << k;
  }
  EXPECT_FALSE(s.hashed());
}

TEST(KeySet, SparseKeysTurnIntoAHashSetKeepingEveryKey) {
  KeySet s;
  std::vector<int64_t> dense, sparse;
  for (int64_t k = 0; k < 5000; ++k) dense.push_back(k);
  auto scatter = [](uint64_t k) {
    return static_cast<int64_t>(k * 0x9E3779B97F4A7C15ULL);
  };  // some negative
  for (uint64_t k = 1; k <= 20000; ++k) sparse.push_back(scatter(k));
  sparse.push_back(std::numeric_limits<int64_t>::min());
  for (int64_t k : dense) ASSERT_TRUE(s.insert(k));
  EXPECT_FALSE(s.hashed());
  for (int64_t k : sparse) ASSERT_TRUE(s.insert(k)) << k;
  EXPECT_TRUE(s.hashed());
  EXPECT_EQ(s.size(), dense.size() + sparse.size());
  for (int64_t k : dense) ASSERT_TRUE(s.contains(k)) << k;
  for (int64_t k : sparse) ASSERT_TRUE(s.contains(k)) << k;
  for (int64_t k : sparse) ASSERT_FALSE(s.insert(k)) << k;
  EXPECT_FALSE(s.contains(5000));
  EXPECT_FALSE(s.contains(scatter(3) + 1));
  EXPECT_LT(s.memory_bytes(), 32 * s.size() + (64u << 10));
  s.clear();
  EXPECT_FALSE(s.hashed());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(s.contains(0));
  EXPECT_FALSE(s.contains(std::numeric_limits<int64_t>::min()));
}

}  // namespace
}  // namespace pinstream::state
