// Where a Delta table's files are in its ObjectStore (rooted at the table): the keys of
// commits, checkpoints and `_last_checkpoint` under `_delta_log/`, what a listing of the
// log holds, and a data file's key from its add path. Shared by table.cc, checkpoint.cc
// and inspect.cc; the same keys on a local directory and on an S3 prefix.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "connectors/objstore/object_store.h"
#include "stream/core/status.h"

namespace pinstream::connectors::delta {

using objstore::ObjectStore;

inline constexpr const char* kLogPrefix = "_delta_log/";
inline constexpr const char* kLastCheckpointKey = "_delta_log/_last_checkpoint";

// "_delta_log/%020d.json" and "_delta_log/%020d.checkpoint.parquet".
std::string commit_key(int64_t version);
std::string checkpoint_key(int64_t version);

// The versions that have a commit file, and those that have a single-file checkpoint.
struct LogListing {
  std::set<int64_t> commits, checkpoints;
};
// One list() of `_delta_log/`. IoError/Unavailable when the store cannot be listed.
core::Result<LogListing> list_log(ObjectStore& table);

// A data file's key: add paths are URL-encoded (partition directories use %XX escapes).
std::string data_key(const std::string& add_path);

// A store for `location` (a path or s3://bucket/prefix), shared by every table under it.
core::Result<std::shared_ptr<ObjectStore>> open_location(const std::string& location);

// The store of `sub` (a key prefix, e.g. a table's name) under `parent`: keys are
// relative to `parent`'s `sub/`. Shares the parent's connections and credentials.
std::shared_ptr<ObjectStore> sub_store(std::shared_ptr<ObjectStore> parent, std::string sub);

}  // namespace pinstream::connectors::delta
