// The engine's tables at start: which to open (TableSpec), and opening tables in an object
// store concurrently (each open is a few round trips; one table after another they add up).
#pragma once

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "connectors/delta/log_store.h"
#include "connectors/delta/table.h"
#include "stream/parallel.h"

namespace pinstream::runtime {

using OpenedTable = core::Result<std::unique_ptr<connectors::delta::DeltaTable>>;

struct TableSpec {
  std::string name;
  core::Schema schema;
  bool ingest_side = false;  // written by the ingest thread (TableRt::ingest_side)
};

// The specs in order, a name given twice once (its first spec).
inline std::vector<TableSpec> first_of_each(const std::vector<TableSpec>& specs) {
  std::vector<TableSpec> out;
  for (const auto& spec : specs)
    if (std::none_of(out.begin(), out.end(),
                     [&](const TableSpec& t) { return t.name == spec.name; }))
      out.push_back(spec);
  return out;
}

inline OpenedTable open_delta(const std::shared_ptr<connectors::objstore::ObjectStore>& root_store,
                              const std::string& root, const std::string& staging,
                              const TableSpec& spec) {
  connectors::delta::TableOptions topts;
  // Where a remote table's data files are written before their upload (unused locally).
  topts.staging_dir = (std::filesystem::path(staging) / spec.name).string();
  // Delta checkpoints off the epoch's commit (a thread per table handle).
  topts.background_checkpoints = true;
  return connectors::delta::DeltaTable::open(connectors::delta::sub_store(root_store, spec.name),
                                             root + "/" + spec.name, spec.name, spec.schema, topts);
}

// At most this many tables in an object store open (or are checked) at once.
inline constexpr size_t kOpenThreads = 8;

inline std::vector<OpenedTable> open_concurrently(
    const std::vector<TableSpec>& todo,
    const std::shared_ptr<connectors::objstore::ObjectStore>& root_store, const std::string& root,
    const std::string& staging) {
  std::vector<OpenedTable> opened;
  for (size_t i = 0; i < todo.size(); ++i)
    opened.emplace_back(core::Status::internal("table not opened"));
  for_each_index(todo.size(), kOpenThreads,
                 [&](size_t i) { opened[i] = open_delta(root_store, root, staging, todo[i]); });
  return opened;
}

}  // namespace pinstream::runtime
