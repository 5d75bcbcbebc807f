// The daemon's choice of what to compact (select_tiered, connectors/delta/optimize.h),
// simulated without I/O over thousands of epochs: bytes rewritten stay within a log factor
// of the data, and live files within the stated bound; selecting every small file (what
// `pinstream optimize` does on demand) rewrites quadratically.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "connectors/delta/optimize.h"

namespace pinstream::connectors::delta {
namespace {

using Select =
    std::function<std::vector<AddFile>(const std::vector<AddFile>&, const OptimizeOptions&)>;

struct Totals {
  int64_t data = 0, rewritten = 0, max_small_after_pass = 0, max_large = 0;
};

// One partition: an epoch file of `epoch_bytes` every epoch, a compactor pass every
// `pass_every` epochs that runs rounds while `select` picks files. A round's inputs are
// rewritten like optimize.cc does (outputs closed once their inputs reach the target); every
// file carries `overhead` bytes (Parquet footer and headers) that a merged output holds once.
Totals simulate(const Select& select, const OptimizeOptions& o, int epochs, int pass_every,
                int64_t epoch_bytes, int64_t overhead) {
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
  for (int e = 1; e <= epochs; ++e) {
    int64_t size = epoch_bytes + (e * 37) % (epoch_bytes / 2 + 1);  // a varying trickle
    live.push_back(file(size));
    t.data += size;
    if (e % pass_every != 0) continue;
    for (int round = 0; round < 64; ++round) {
      std::vector<AddFile> small;
      for (const auto& a : live)
        if (a.size < o.target_file_bytes) small.push_back(a);
      if (static_cast<int64_t>(small.size()) < o.min_files) break;
      std::vector<AddFile> in = select(small, o);
      if (in.empty()) break;
      std::vector<std::string> gone;
      int64_t acc = 0, merged = 0;
      for (const auto& a : in) {
        gone.push_back(a.path);
        t.rewritten += a.size;
        acc += a.size;
        merged += a.size - (merged > 0 ? overhead : 0);
        if (acc >= o.target_file_bytes) live.push_back(file(merged)), acc = 0, merged = 0;
      }
      if (acc > 0) live.push_back(file(merged));
      std::erase_if(live, [&](const AddFile& a) {
        return std::find(gone.begin(), gone.end(), a.path) != gone.end();
      });
    }
    int64_t small = 0;
    for (const auto& a : live) small += a.size < o.target_file_bytes;
    t.max_small_after_pass = std::max(t.max_small_after_pass, small);
    t.max_large = std::max(t.max_large, static_cast<int64_t>(live.size()) - small);
  }
  return t;
}

std::vector<AddFile> select_all(const std::vector<AddFile>& small, const OptimizeOptions& o) {
  return static_cast<int64_t>(small.size()) >= o.min_files ? small : std::vector<AddFile>{};
}

// Tiers between the smallest file and the target: the bound on rewrites per byte, and with
// min_files - 1 files at most per tier after a pass, the bound on small live files.
int64_t tiers(const OptimizeOptions& o, int64_t smallest) { return size_tier(smallest, o) + 1; }

TEST(CompactionTiers, SizeTiersFollowTheFactorBelowTheTarget) {
  OptimizeOptions o;  // 32 files, 128 MiB
  EXPECT_EQ(size_tier((128ll << 20) - 1, o), 0);
  EXPECT_EQ(size_tier(4ll << 20, o), 0);
  EXPECT_EQ(size_tier((4ll << 20) - 1, o), 1);
  EXPECT_EQ(size_tier(4096, o), 2);
  EXPECT_EQ(size_tier(430, o), 3);
  EXPECT_EQ(size_tier(128, o), 3);
  EXPECT_EQ(size_tier(1, o), 4);  // the last tier holds everything smaller
}

// The soak's trickle (a ~430-byte file an epoch, a pass every 10 epochs) for 5,000 epochs,
// with a 64 KiB target (reached: tier 0 compacts into files of the target) and a 1 MiB one.
TEST(CompactionTiers, BytesRewrittenStayWithinALogFactorOfTheData) {
  for (int64_t target : {64ll << 10, 1ll << 20}) {
    for (int64_t overhead : {0, 300}) {
      OptimizeOptions o;
      o.target_file_bytes = target;
      Totals t = simulate(select_tiered, o, 5000, 10, 430, overhead);
      const int64_t k = tiers(o, 430);  // 2 for 64 KiB, 3 for 1 MiB
      SCOPED_TRACE("target " + std::to_string(target) + " overhead " + std::to_string(overhead));
      EXPECT_LE(t.rewritten, 2 * k * t.data);
      EXPECT_LE(t.max_small_after_pass, k * (o.min_files - 1));
      EXPECT_LE(t.max_large, t.data / o.target_file_bytes);
    }
  }
}

TEST(CompactionTiers, ADefaultTargetKeepsFewSmallFilesOverADay) {
  OptimizeOptions o;  // 128 MiB: 4 tiers above 430-byte files
  Totals t = simulate(select_tiered, o, 20000, 10, 430, 300);
  EXPECT_LE(t.rewritten, 2 * tiers(o, 430) * t.data);
  EXPECT_LE(t.max_small_after_pass, tiers(o, 430) * (o.min_files - 1));
}

// What the daemon did before (and `optimize` still does on demand): its own output is
// rewritten every round, so bytes rewritten grow with the square of the data, far beyond the
// bound above (about 300 times the data after 20,000 epochs).
TEST(CompactionTiers, SelectingEverySmallFileRewritesQuadratically) {
  OptimizeOptions o;
  Totals day = simulate(select_all, o, 20000, 10, 430, 300);
  Totals half = simulate(select_all, o, 10000, 10, 430, 300);
  EXPECT_GT(day.rewritten, 10 * 2 * tiers(o, 430) * day.data);
  double per_byte_day = static_cast<double>(day.rewritten) / static_cast<double>(day.data);
  double per_byte_half = static_cast<double>(half.rewritten) / static_cast<double>(half.data);
  EXPECT_GT(per_byte_day, 1.8 * per_byte_half);
}

}  // namespace
}  // namespace pinstream::connectors::delta
