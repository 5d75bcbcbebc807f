// Delta checkpoints: the whole Snapshot of one version as `%020d.checkpoint.parquet` (one
// row per action, nested struct columns txn/add/remove/metaData/protocol as the Delta
// protocol lays them out, map<string,string> for partitionValues/configuration) plus
// `_delta_log/_last_checkpoint`; and reading one back so log replay can start there.
#pragma once

#include <optional>
#include <string>

#include "connectors/delta/actions.h"

namespace pinstream::connectors::delta {

// Writes the checkpoint of `snap` (at snap.version) into `log_dir`, fsynced, then replaces
// `_last_checkpoint` atomically (rename). IoError on failure; the log stays valid.
core::Status write_checkpoint(const std::string& log_dir, const Snapshot& snap);
// The version named by `_last_checkpoint`, or nullopt when there is none (or it is unreadable).
std::optional<int64_t> last_checkpoint(const std::string& log_dir);
// Reads the single-file checkpoint of `version` into a Snapshot at that version.
core::Result<Snapshot> read_checkpoint(const std::string& log_dir, int64_t version);
std::string checkpoint_path(const std::string& log_dir, int64_t version);

}  // namespace pinstream::connectors::delta
