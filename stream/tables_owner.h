// One pipeline writer per tables root (until scale-out gives each writer its own txn
// appId): `<tables root>/_pinstream_owner` names the data directory and host of the writer
// that owns the tables. Two writers with different data dirs on one root would each skip
// the other's epochs as "already present" (same appId, same epoch numbers).
#pragma once

#include <string>

#include "stream/core/status.h"

namespace pinstream::runtime {

inline constexpr const char* kTablesOwnerFile = "_pinstream_owner";

// The owner id of this process: "<absolute data dir> on <host>".
std::string tables_owner_id(const std::string& data_dir);

// Claims `tables_root` for `data_dir` (creating the owner file when absent), or succeeds
// when this data dir on this host owns it already. AlreadyExists naming the owner and how
// to take over when another one does. Object-store roots (s3://) are not claimed yet.
core::Status claim_tables_root(const std::string& tables_root, const std::string& data_dir);

}  // namespace pinstream::runtime
