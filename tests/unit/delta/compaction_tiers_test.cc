// The daemon's choice of what to compact (select_tiered, connectors/delta/optimize.h),
// simulated without I/O over up to 100,000 epochs: after every look, live files stay below
// SPEC's bound (min_files + data/target), and bytes rewritten within a small factor of the
// bytes epochs wrote. The previous choices (size tiers at fan-in min_files; every small file)
// are simulated beside it for the write amplification.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connectors/delta/optimize.h"

namespace pinstream::connectors::delta {
namespace {

using Select =
    std::function<std::vector<AddFile>(const std::vector<AddFile>&, const OptimizeOptions&)>;

struct Totals {
  int64_t written = 0, rewritten = 0, max_live = 0, looks = 0, over_bound = 0;
  double amplification() const {
    return static_cast<double>(rewritten) / static_cast<double>(written);
  }
};

struct Trickle {
  int epochs = 1000;
  int look_every = 10;         // epochs between two looks of the compactor
  int64_t epoch_bytes = 6144;  // an epoch's file: from this to 1.5 times it
  int64_t overhead = 300;      // Parquet footer and headers: a merged output holds them once
  bool check_bound = true;     // count looks that end at or above SPEC's bound
};

// One partition: an epoch file every epoch, a look every `look_every` epochs that runs
// rounds while `select` picks files (at most 64, as optimize_table). A round rewrites its
// inputs as optimize.cc does: an output is cut once its own bytes reach the target.
Totals simulate(const Select& select, const OptimizeOptions& o, const Trickle& run) {
  Totals t;
  std::vector<AddFile> live;  // oldest first
  int64_t clock = 0, next = 0;
  auto file = [&](int64_t size) {
    AddFile a;
    a.path = "f" + std::to_string(next++);
    a.size = std::max<int64_t>(1, size);
    a.modification_time = ++clock;
    return a;
  };
  for (int e = 1; e <= run.epochs; ++e) {
    int64_t size = run.epoch_bytes + (e * 7919) % (run.epoch_bytes / 2 + 1);  // a varying trickle
    live.push_back(file(size));
    t.written += size;
    if (e % run.look_every != 0) continue;
    for (int round = 0; round < 64; ++round) {
      std::vector<AddFile> small;
      for (const auto& a : live)
        if (a.size < o.target_file_bytes) small.push_back(a);
      std::vector<AddFile> in = select(small, o);
      if (in.empty()) break;
      std::map<std::string, bool> gone;
      int64_t merged = 0;
      for (const auto& a : in) {
        gone[a.path] = true;
        t.rewritten += a.size;
        merged += a.size - (merged > 0 ? run.overhead : 0);
        if (merged >= o.target_file_bytes) live.push_back(file(merged)), merged = 0;
      }
      if (merged > 0) live.push_back(file(merged));
      std::erase_if(live, [&](const AddFile& a) { return gone.count(a.path) > 0; });
    }
    int64_t data = 0;
    for (const auto& a : live) data += a.size;
    const auto n = static_cast<int64_t>(live.size());
    ++t.looks;
    t.max_live = std::max(t.max_live, n);
    // live < min_files + data / target, in integers: n * target < min_files * target + data.
    if (run.check_bound && n * o.target_file_bytes >= o.min_files * o.target_file_bytes + data) {
      if (t.over_bound++ == 0)
        ADD_FAILURE() << "epoch " << e << ": " << n << " live files, " << data << " bytes";
    }
  }
  return t;
}

std::vector<AddFile> select_all(const std::vector<AddFile>& small, const OptimizeOptions& o) {
  return static_cast<int64_t>(small.size()) >= o.min_files ? small : std::vector<AddFile>{};
}

// The previous daemon's choice: size tiers at fan-in min_files, the smallest tier holding
// min_files files (up to T x (min_files - 1) small files after a look).
std::vector<AddFile> select_fixed_tiers(const std::vector<AddFile>& small,
                                        const OptimizeOptions& o) {
  std::map<int, int64_t> counts;
  auto tier = [&](const AddFile& a) { return size_tier(a.size, o.min_files, o.target_file_bytes); };
  for (const auto& a : small) ++counts[tier(a)];
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    if (it->second < o.min_files) continue;
    std::vector<AddFile> out;
    for (const auto& a : small)
      if (tier(a) == it->first) out.push_back(a);
    return out;
  }
  return {};
}

TEST(CompactionTiers, SizeTiersFollowTheFanInBelowTheTarget) {
  const int64_t target = 128ll << 20;
  EXPECT_EQ(size_tier(target - 1, 32, target), 0);
  EXPECT_EQ(size_tier(4ll << 20, 32, target), 0);
  EXPECT_EQ(size_tier((4ll << 20) - 1, 32, target), 1);
  EXPECT_EQ(size_tier(430, 32, target), 3);
  EXPECT_EQ(size_tier(1, 32, target), 4);  // the last tier holds everything smaller
  EXPECT_EQ(size_tier(6144, 6, target), 5);
  EXPECT_EQ(size_tier(430, 4, target), 9);
}

TEST(CompactionTiers, FanInKeepsEveryTierUnderMinFiles) {
  OptimizeOptions o;                   // 32 files, 128 MiB
  EXPECT_EQ(tier_fan_in(6144, o), 6);  // 6 tiers x 5 = 30 < 32
  EXPECT_EQ(tier_fan_in(430, o), 4);   // 10 tiers x 3 = 30
  EXPECT_EQ(tier_fan_in((128ll << 20) - 1, o), 32);
  for (int64_t smallest : {1ll, 100ll, 6144ll, 1ll << 20}) {
    int64_t f = tier_fan_in(smallest, o);
    ASSERT_GE(f, 2);
    EXPECT_LT((size_tier(smallest, f, o.target_file_bytes) + 1) * (f - 1), o.min_files);
  }
  o.min_files = 2;  // one small file at most: no tier fits but the target's own
  EXPECT_EQ(tier_fan_in(6144, o), 0);
  EXPECT_EQ(tier_fan_in((128ll << 20) - 1, o), 2);
}

TEST(CompactionTiers, NothingIsSelectedUnderMinFilesSmallFiles) {
  OptimizeOptions o;
  std::vector<AddFile> small(31);
  for (auto& a : small) a.size = 6144;
  EXPECT_TRUE(select_tiered(small, o).empty());
  small.emplace_back().size = 6144;
  EXPECT_EQ(select_tiered(small, o).size(), 32u);  // one tier: all of it
}

// SPEC's bound after every look, for epochs of 300 B to 1 MiB, targets of 64 KiB to 128 MiB,
// min_files 2 to 32, a look every epoch or every 10: every number of epochs up to 5,000.
TEST(CompactionTiers, LiveFilesStayUnderTheSpecBoundAfterEveryLook) {
  for (int64_t min_files : {2, 4, 8, 32}) {
    for (int64_t target : {64ll << 10, 1ll << 20, 128ll << 20}) {
      for (int64_t epoch_bytes : {300ll, 6144ll, 65536ll, 1ll << 20}) {
        for (int look_every : {1, 10}) {
          OptimizeOptions o;
          o.min_files = min_files;
          o.target_file_bytes = target;
          Trickle run{.epochs = 5000, .look_every = look_every, .epoch_bytes = epoch_bytes};
          SCOPED_TRACE("min_files " + std::to_string(min_files) + " target " +
                       std::to_string(target) + " epoch " + std::to_string(epoch_bytes) +
                       " look every " + std::to_string(look_every));
          Totals t = simulate(select_tiered, o, run);
          EXPECT_EQ(t.over_bound, 0);
          EXPECT_EQ(t.looks, 5000 / look_every);
        }
      }
    }
  }
}

// 100,000 epochs of ~6 KB (a day at 1 epoch/s) with the defaults: the bound holds, bytes
// rewritten stay about once per tier (6), and the previous choices are measured beside it.
TEST(CompactionTiers, WriteAmplificationOverADayOfSixKilobyteEpochs) {
  OptimizeOptions o;  // 32 files, 128 MiB
  Trickle run{.epochs = 100000, .look_every = 10, .epoch_bytes = 6144};
  Totals now = simulate(select_tiered, o, run);
  run.check_bound = false;
  Totals fixed = simulate(select_fixed_tiers, o, run);
  Totals all = simulate(select_all, o, run);
  std::printf(
      "written %.1f MiB; rewritten / written: tiered at F=%lld %.2f (max %lld live), "
      "tiered at F=min_files %.2f (max %lld live), every small file %.1f (max %lld)\n",
      static_cast<double>(now.written) / (1 << 20), static_cast<long long>(tier_fan_in(6144, o)),
      now.amplification(), static_cast<long long>(now.max_live), fixed.amplification(),
      static_cast<long long>(fixed.max_live), all.amplification(),
      static_cast<long long>(all.max_live));
  EXPECT_EQ(now.over_bound, 0);
  EXPECT_LE(now.amplification(), 7.0);  // T = 6 tiers
  EXPECT_GT(all.amplification(), 10 * now.amplification());
  // The previous tiers rewrote less but held up to T x 31 small files: above the bound.
  EXPECT_GE(fixed.max_live, o.min_files + now.written / o.target_file_bytes);
}

// The soak's smallest tables (~430-byte epochs): F = 4 and 10 tiers, still linear.
TEST(CompactionTiers, TinyEpochFilesStayLinear) {
  OptimizeOptions o;
  Trickle run{.epochs = 20000, .look_every = 10, .epoch_bytes = 430};
  Totals t = simulate(select_tiered, o, run);
  EXPECT_EQ(t.over_bound, 0);
  EXPECT_LE(t.amplification(), 11.0);
  std::printf("430-byte epochs: rewritten / written %.2f, max %lld live\n", t.amplification(),
              static_cast<long long>(t.max_live));
}

}  // namespace
}  // namespace pinstream::connectors::delta
