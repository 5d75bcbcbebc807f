// The tables root as an object store (a local directory or s3://bucket/prefix), checked at
// start; and one pipeline writer per tables root (until scale-out gives each writer its own
// txn appId): `<tables root>/_pinstream_owner` names the data directory and host of the
// writer that owns the tables. Two writers with different data dirs on one root would each
// skip the other's epochs as "already present" (same appId, same epoch numbers).
#pragma once

#include <memory>
#include <string>

#include "connectors/objstore/object_store.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

inline constexpr const char* kTablesOwnerFile = "_pinstream_owner";

// The store of `tables_root`, checked: one line naming the root and the store's problem
// when it is not usable: InvalidArgument (exit 2) for a malformed URL, a missing bucket or
// refused credentials (the S3 error code in the message), Unavailable (exit 1) for an
// endpoint that cannot be reached.
core::Result<std::shared_ptr<connectors::objstore::ObjectStore>> open_tables_root(
    const std::string& tables_root);

// The owner id of this process: "<absolute data dir> on <host>".
std::string tables_owner_id(const std::string& data_dir);

// The owner line of a tables root shared by the members of pipeline `id` that run with
// `pipeline.tasks: partitions` (each task commits its own txn appId, SPEC section 9).
std::string shared_tables_owner(const std::string& pipeline_id);

// Claims the tables root `tables` (named `tables_root`) for `data_dir` (creating the owner
// object with put_if_absent when absent), or succeeds when this data dir on this host owns
// it already. AlreadyExists naming the owner and how to take over when another one does.
// With `shared_by` (a pipeline id in `tasks: partitions` mode) the root is claimed for every
// member of that pipeline instead (shared_tables_owner): a root this data dir owned alone
// becomes shared; a root owned by another single writer is refused as above, and a shared
// root refuses a claim without `shared_by` (a single-task writer would reuse one appId).
core::Status claim_tables_root(connectors::objstore::ObjectStore& tables,
                               const std::string& tables_root, const std::string& data_dir,
                               const std::string& shared_by = "");
// The same on a tables root opened here.
core::Status claim_tables_root(const std::string& tables_root, const std::string& data_dir,
                               const std::string& shared_by = "");

}  // namespace pinstream::runtime
