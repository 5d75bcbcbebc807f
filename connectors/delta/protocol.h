// Which existing Delta tables pinstream may write. A writer must never commit to a table
// whose protocol, reader/writer features or writer-binding properties it does not
// implement (a Databricks table with deletion vectors, column mapping, CHECK constraints,
// generated or identity columns...): it would write commits that other engines misread.
// pinstream implements writer version 2 (append, RESTORE) and, of the table features,
// those that an appending writer honours by doing nothing (see kWritableFeatures).
#pragma once

#include <string>

#include "connectors/delta/actions.h"
#include "stream/core/status.h"

namespace pinstream::connectors::delta {

enum class WriteKind {
  kAppend,   // add actions only (the epoch commits)
  kRestore,  // remove + add with dataChange (replay's RESTORE)
};

// Ok when pinstream may commit `kind` to the table in `snap` (`table` names it in the
// message). FailedPrecondition otherwise, with one line naming the table, the protocol,
// the features or properties it does not implement, and what the user can do.
core::Status check_writable(const Snapshot& snap, const std::string& table, WriteKind kind);

}  // namespace pinstream::connectors::delta
