// Compaction of a Delta table's small files (SPEC section 5, "Table upkeep"): per partition,
// when at least `min_files` files are smaller than the target, they are read one at a time
// and rewritten into files of about the target size (stats recomputed), then one commit
// removes the inputs and adds the outputs, both with dataChange false (operation OPTIMIZE,
// with operationMetrics). Rows never change, so readers at any version see the same rows.
// Memory: one input file and one output file at a time.
#pragma once

#include <atomic>
#include <cstdint>
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
  // Called once the outputs of a round are written, before its commit (tests commit
  // concurrently there).
  std::function<void()> before_commit;
};

struct OptimizeReport {
  int64_t commits = 0;
  int64_t removed_files = 0, added_files = 0;
  int64_t removed_bytes = 0, added_bytes = 0;
  int64_t conflicts = 0;  // rounds given up or re-planned because an input was removed
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

// The daemon's fan-in for a partition whose smallest small file has `smallest` bytes: the
// largest F in [2, min_files] with T x (F - 1) < min_files, T = size_tier(smallest) + 1 the
// tiers from that file up to the target (F = 6, T = 6 for 6 KB files and the defaults; F = 4,
// T = 10 for 430-byte files). 0 when no F fits (a small min_files for a wide span of sizes).
int64_t tier_fan_in(int64_t smallest, const OptimizeOptions& opts);

// The daemon's choice among one partition's small files (sorted oldest first). Nothing while
// fewer than min_files are small (SPEC's trigger). Otherwise, at F = tier_fan_in: every file
// of the smallest-size tier holding at least F files, oldest first. Such a tier exists: the
// T tiers cannot hold min_files > T x (F - 1) files with at most F - 1 each. A round turns
// those F or more files into target-size files and at most one small one, so rounds run while
// min_files files are small and end below it: after each look, at most min_files - 1 small
// files and data/target files at the target, SPEC's bound. A byte moves up a tier each time
// it is rewritten: about T rewrites in all. With F = 0, every small file (quadratic, but the
// bound holds).
std::vector<AddFile> select_tiered(const std::vector<AddFile>& small, const OptimizeOptions& opts);

// Compacts every partition of `table` that needs it. IoError/Unavailable when a file
// cannot be read or written (what was committed before stays committed).
core::Result<OptimizeReport> optimize_table(DeltaTable& table, const OptimizeOptions& opts);

}  // namespace pinstream::connectors::delta
