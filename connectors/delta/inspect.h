// Read-only inspection of a Delta table for `pinstream verify` and the engine's start-up
// checks: the log's continuity (every commit from the newest checkpoint to the newest
// commit present, non-empty and readable) and every live data file (present, of the size
// its add action says, and of the CRC-32C recorded in its tags). Never writes anything.
// Each call takes the table's ObjectStore (local or S3); the path overloads open a local one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/delta/actions.h"
#include "connectors/delta/log_store.h"

namespace pinstream::connectors::delta {

// The greatest N for which `_delta_log/N.json` exists, or -1 when there is none. The
// store's error when it cannot be listed.
core::Result<int64_t> max_commit_version(ObjectStore& table);
int64_t max_commit_version(const std::string& log_dir);  // -1 also when unlistable

struct LogReport {
  Snapshot snapshot;                  // as far as the log could be read
  std::vector<std::string> problems;  // one line each, naming the file
};

// Replays the table's `_delta_log` read-only, from the newest checkpoint (or version 0) to
// the newest commit present; each missing, empty or unreadable commit is a problem (and
// so is a store that cannot be read).
LogReport inspect_log(ObjectStore& table);
LogReport inspect_log(const std::string& table_dir);

// One data file of the table: "" when it is present with add.size bytes (and, when
// `checksum` and tagged, its CRC-32C), else the problem in one line naming the file.
std::string check_file(ObjectStore& table, const AddFile& add, bool checksum);
std::string check_file(const std::string& table_dir, const AddFile& add, bool checksum);

// Checks every live file of `snap`: present, add.size bytes, and (when tagged) its CRC-32C.
// Returns one line per problem; `checked` counts the files looked at.
std::vector<std::string> check_files(ObjectStore& table, const Snapshot& snap, int64_t& checked);
std::vector<std::string> check_files(const std::string& table_dir, const Snapshot& snap,
                                     int64_t& checked);

}  // namespace pinstream::connectors::delta
