// Delta checkpoints in the table's ObjectStore: the whole Snapshot of one version as
// `%020d.checkpoint.parquet` (one row per action, nested struct columns
// txn/add/remove/metaData/protocol as the Delta protocol lays them out, map<string,string> for
// partitionValues/configuration) plus
// `_delta_log/_last_checkpoint`; and reading one back so log replay can start there.
#pragma once

#include <optional>
#include <string>

#include "connectors/delta/actions.h"
#include "connectors/delta/log_store.h"

namespace pinstream::connectors::delta {

// Writes the checkpoint of `snap` (at snap.version) into the table's store (rooted at the
// table), encoded in memory, then `_last_checkpoint`: only after its checkpoint is in place
// (a reader following `_last_checkpoint` always finds it). IoError/Unavailable on failure;
// the log stays valid.
core::Status write_checkpoint(ObjectStore& table, const Snapshot& snap);
// The version named by `_last_checkpoint`: nullopt when there is none or it is unreadable;
// an error only when the store could not be read (so a transient failure is never taken
// for "no checkpoint").
core::Result<std::optional<int64_t>> last_checkpoint(ObjectStore& table);
// Reads the single-file checkpoint of `version` into a Snapshot at that version.
core::Result<Snapshot> read_checkpoint(ObjectStore& table, int64_t version);

// The same on a local table given by its `_delta_log` directory.
core::Result<Snapshot> read_checkpoint(const std::string& log_dir, int64_t version);
std::string checkpoint_path(const std::string& log_dir, int64_t version);

}  // namespace pinstream::connectors::delta
