// Compaction of a Delta table's small files (SPEC section 5, "Table upkeep"): per partition,
// when at least `min_files` files are smaller than the target, they are read one at a time
// and rewritten into files of about the target size (stats recomputed), then one commit
// removes the inputs and adds the outputs, both with dataChange false (operation OPTIMIZE,
// with operationMetrics). Rows never change, so readers at any version see the same rows.
// Memory: one input file and one output file at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "connectors/delta/table.h"

namespace pinstream::connectors::delta {

struct OptimizeOptions {
  int64_t min_files = 32;                   // Default: compact a partition from 32 small files
  int64_t target_file_bytes = 128ll << 20;  // Default: 128 MiB
  int max_attempts = 3;  // Default: a partition whose inputs a concurrent commit removed is
                         // planned again from the new snapshot up to 3 times, then left
  // Set by another thread to stop between files (the daemon stopping); outputs not yet
  // committed are deleted.
  const std::atomic<bool>* stop = nullptr;
  // Default false (on demand: all the small files of a partition, in one round). The daemon
  // sets it: one size tier per round (select_tiered), and a partition's rounds go on while
  // min_files of its files are small.
  bool tiered = false;
  // Tiered only. Default 0: room left below min_files for the files that land while a round
  // runs: rounds start at trigger_files() = min_files - headroom small files, and the tiers
  // hold fewer than that between looks. The daemon sets it from HeadroomEstimate.
  int64_t headroom = 0;
  // Tiered only. Default 0: a round needs trigger_files() small files. > 0 (a look going on:
  // the smallest file its last round wrote): also a tier of files at least that large holding
  // F files, so the cascade a round starts ends while few files are live, not at the next
  // trigger, when the smaller tiers are full again. Files smaller than that (the tier epochs
  // land in) wait for the trigger: taken then all at once, not F at a time.
  int64_t cascade_from = 0;
  int max_rounds = 64;  // Default: 64 tiered rounds per partition and call (then the next look)
  // Called once the outputs of a round are written, before its commit (tests commit
  // concurrently there).
  std::function<void()> before_commit;
  // Called between two input files of a round with its inputs: the daemon gives other
  // rounds their turn there (those due at the trigger), so that a long round of large files
  // does not hold them up while epoch files land.
  std::function<void(const std::vector<AddFile>& busy)> between_files;
  // Files another round is rewriting (that round's `busy`): a partition whose selection
  // holds one is left for the next look.
  const std::vector<AddFile>* busy = nullptr;
};

struct OptimizeReport {
  int64_t commits = 0;
  int64_t removed_files = 0, added_files = 0;
  int64_t removed_bytes = 0, added_bytes = 0;
  int64_t conflicts = 0;          // rounds given up or re-planned because an input was removed
  int64_t last_output_bytes = 0;  // the smallest file the last committed round wrote
  // Over the committed rounds: the most commits of others between a round's plan and its
  // commit; over those planned at the trigger (what the headroom is for), the most small
  // files the partition held at the version the commit followed (the plan's and those landed
  // meanwhile: the round's peak, as epochs only add files).
  int64_t max_landed = 0, peak_small = 0;
};

// The names of the tables under a tables root (directories holding `_delta_log/`), sorted.
core::Result<std::vector<std::string>> list_tables(objstore::ObjectStore& root);

// Files smaller than the target, per partition, in the latest snapshot: whether any
// partition holds at least `min_files` of them (cheap: no data is read).
bool needs_optimize(const Snapshot& snap, const OptimizeOptions& opts);

// Size tiers below the target at fan-in F: tier 0 holds sizes in [target/F, target), tier k
// sizes in [target/F^(k+1), target/F^k); the last tier (target/F^k < F) everything smaller.
// F files of tier k merge into one of at least target/F^k: tier k-1 or above.
int size_tier(int64_t size, int64_t fan_in, int64_t target);

// The small files of a partition that start a look: min_files - headroom when tiered, else
// min_files. The headroom counts up to a quarter of min_files (and H >= 2): a larger one would
// shrink the fan-in, so rounds, for a compactor already behind.
int64_t trigger_files(const OptimizeOptions& opts);

// The daemon's fan-in for a partition whose smallest small file has `smallest` bytes: the
// largest F in [2, min_files] with T x (F - 1) < trigger_files(), T = size_tier(smallest) + 1
// the tiers from that file up to the target (headroom 0: F = 6, T = 6 for 6 KB files and the
// defaults; F = 4, T = 10 for 430-byte files; headroom 4: F = 4, T = 8 and F = 3, T = 12). 0
// when no F fits (a small min_files for a wide span of sizes).
int64_t tier_fan_in(int64_t smallest, const OptimizeOptions& opts);

// The daemon's choice among one partition's small files (sorted oldest first), at F =
// tier_fan_in: the smallest-size tier holding at least F files, every file of it, oldest
// first, once H = trigger_files() files are small; before that, only such a tier of files of
// cascade_from bytes or more. From H files on such a tier exists: the T tiers cannot hold
// H > T x (F - 1) files with at most F - 1 each. A round turns its files into target-size files
// and at most one small one; a look's rounds run while one is selected, so a look ends with
// fewer than H small files. SPEC's bound at every version: epochs add files one commit at a
// time, so a partition holds at most H small files when a look starts, plus those landing
// until its rounds bring it back down, which headroom = min_files - H covers
// (HeadroomEstimate); plus data/target files at the target. A byte moves up a tier each time it
// is rewritten: about T rewrites in all. With F = 0, every small file at the trigger
// (quadratic, but bounded).
std::vector<AddFile> select_tiered(const std::vector<AddFile>& small, const OptimizeOptions& opts);

// The daemon's HeadroomEstimate: at least 4 files (at 10 epochs/s, the files that land while
// the default pipeline's three tables each get a small round: bench/README.md, "Soak: SPEC's
// bound at every version"), over the last 256 committed rounds (minutes at 10 epochs/s, so
// that the rarer and longer rounds of the larger tiers stay in it).
inline constexpr int64_t kHeadroomFloor = 4;
inline constexpr size_t kHeadroomWindow = 256;

// The headroom a daemon leaves: the most a round needed among the last `window` committed
// rounds planned at the trigger, at least `floor`. Such a round needs peak_small -
// trigger_files() + 1 (files above the trigger at its peak, plus one: the bound is below
// min_files). Rounds of a cascade start below the trigger: the headroom is not theirs.
class HeadroomEstimate {
 public:
  HeadroomEstimate(int64_t floor, size_t window);
  int64_t value() const;
  void observe(int64_t needed);

 private:
  int64_t floor_;
  size_t window_;
  std::deque<int64_t> seen_;
};

// The most small files (below the target) a partition of `snap` holds: how urgent a table is.
int64_t most_small_files(const Snapshot& snap, const OptimizeOptions& opts);

// Compacts every partition of `table` that needs it. IoError/Unavailable when a file
// cannot be read or written (what was committed before stays committed).
core::Result<OptimizeReport> optimize_table(DeltaTable& table, const OptimizeOptions& opts);

}  // namespace pinstream::connectors::delta
