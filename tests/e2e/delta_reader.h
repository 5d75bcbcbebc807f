// Test-side Delta log replay (JSON commits only), independent of connectors/delta: which
// data files are active at the latest version, and which txn versions each appId holds.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace pinstream::testing {

struct DeltaSnapshot {
  int64_t version = -1;
  std::vector<std::string> files;      // absolute paths of active data files
  std::map<std::string, int64_t> txn;  // appId -> last version
};

DeltaSnapshot read_delta_log(const std::filesystem::path& table_dir);

// "read_parquet(['a','b'])" over the active files (or an empty SELECT when there are none).
std::string duckdb_scan(const DeltaSnapshot& s);

// The `ind` keys of the table's active files (read with DuckDB), with multiplicity.
std::multiset<int64_t> table_keys(const std::filesystem::path& table_dir);

}  // namespace pinstream::testing
