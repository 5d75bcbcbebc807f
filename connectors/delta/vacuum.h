// VACUUM (SPEC section 5, "Table upkeep"): deletes the data files of a Delta table that no
// version within the retention references: files removed (by OPTIMIZE or RESTORE) longer
// than the retention ago, and orphans (files no version names: outputs of a crashed epoch
// or compaction) older than the retention. The log is never touched (log_cleanup.h).
// Safe beside a live writer: a file it has written but not committed yet is an orphan
// younger than kMinOrphanAgeMs, whatever the retention, and is kept.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/delta/table.h"

namespace pinstream::connectors::delta {

// Orphans younger than this are kept even under a shorter retention (`--retain 0h`): a
// running epoch or compaction writes its files before the commit that names them.
inline constexpr int64_t kMinOrphanAgeMs = 3600ll * 1000;

struct VacuumOptions {
  // Default: -1: the table's `delta.deletedFileRetentionDuration` (else 7 days).
  int64_t retention_ms = -1;
  bool dry_run = false;  // Default: delete. True: only report what would be deleted.
  // Versions whose files must stay whatever the retention (pinstream checkpoints kept).
  std::set<int64_t> keep_versions;
  int64_t now_ms = 0;  // Default: 0: the clock (tests pass a later time)
  // Paths reported in VacuumReport::first_paths. Default: 10.
  size_t report_paths = 10;
};

struct VacuumReport {
  int64_t retention_ms = 0;      // the retention applied
  int64_t files = 0, bytes = 0;  // deleted (would be deleted, in a dry run)
  int64_t orphans = 0;           // of `files`: named by no version
  int64_t temporaries = 0;       // of `orphans`: unfinished writes of a killed process
  int64_t kept = 0;              // unreferenced by the latest version but within the retention
  std::vector<std::string> first_paths;  // the first deleted keys, at most report_paths
  // The VACUUM START / END commits (none in a dry run or when nothing is deleted).
  std::optional<int64_t> start_version, end_version;
};

// The table's `delta.deletedFileRetentionDuration` in ms (default 7 days).
int64_t deleted_file_retention_ms(const Snapshot& snap);

// Vacuums `table`. When something is to be deleted, the deletions are framed by two
// commitInfo-only commits, `VACUUM START` (files and bytes to delete) and `VACUUM END`, as
// Delta does. InvalidArgument when a version of keep_versions is not in the log any more;
// IoError/Unavailable when the store cannot be listed or a file not deleted (the END commit
// is then not written; running it again finishes the work).
core::Result<VacuumReport> vacuum_table(DeltaTable& table, const VacuumOptions& opts);

// "168h", "7d", "30m", "90s", "0h" (a whole number and a unit) as ms; nullopt otherwise.
std::optional<int64_t> parse_duration_ms(const std::string& text);
// 604800000 -> "7 days", 3600000 -> "1 hours"... the largest unit dividing it, for messages.
std::string format_duration(int64_t ms);

}  // namespace pinstream::connectors::delta
