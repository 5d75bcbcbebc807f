// Delta log cleanup (SPEC section 5): after a checkpoint at version `checkpoint`, the commit
// files and checkpoints before it whose commit is older than the log retention (table
// property `delta.logRetentionDuration`, default 30 days) are deleted. Log replay starts at
// the newest checkpoint, so the table stays readable; time travel to a deleted version
// is no longer possible (that is what the retention bounds).
#pragma once

#include <cstdint>
#include <string>

#include "connectors/delta/actions.h"
#include "connectors/delta/log_store.h"

namespace pinstream::connectors::delta {

inline constexpr int64_t kDefaultLogRetentionMs = 30ll * 24 * 3600 * 1000;
inline constexpr int64_t kDefaultDeletedFileRetentionMs = 7ll * 24 * 3600 * 1000;

// A Delta interval ("interval 30 days", "7 days", "interval 12 hours", "1 week") in ms;
// -1 when it cannot be read.
int64_t parse_interval_ms(const std::string& text);
// The table property `key` of `snap`'s metaData as ms, or `def` when absent or unreadable.
int64_t table_interval_ms(const Snapshot& snap, const std::string& key, int64_t def);

struct LogCleanup {
  int64_t commits = 0, checkpoints = 0;  // files deleted
  // The commitInfo timestamp of the oldest commit kept before the checkpoint (nothing can
  // expire before it does); -1 when unknown (none kept, or no timestamp).
  int64_t oldest_kept_ms = -1;
};

// Deletes the expired log files before `checkpoint` (a version with a checkpoint), reading
// commits oldest first and stopping at the first one within the retention (its
// commitInfo timestamp). `now_ms` is the clock (tests pass a later one).
core::Result<LogCleanup> clean_log(ObjectStore& table, int64_t checkpoint, int64_t retention_ms,
                                   int64_t now_ms);

}  // namespace pinstream::connectors::delta
