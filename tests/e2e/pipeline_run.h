// One pipeline as a user runs it in the e2e and fault tests: an S3-sink input under
// <dir>/raw, a data root, a copy of the default pipeline (optionally with small epochs so
// that a run has many), and the `pinstream` commands against them: run, spawn a daemon,
// query a view or the stats from the committed state, and read a table's keys with DuckDB.
#pragma once

#include <sys/types.h>

#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace pinstream::testing {

// The default pipeline's tables that do not depend on the time of the run, for comparing two
// runs column by column: {table, columns, order by}.
inline const std::vector<std::array<std::string, 3>> kComparedTables = {
    {"pin", "*", "ind"},
    {"geo", "*", "ind"},
    {"user", "*", "ind"},
    {"dead_letters", "stream, source, position, reason, raw", "stream, position"},
    {"late_records", "stream, source, position, key, event_time", "stream, position"},
    {"category_count_by_hour", "*", "window_start, category"}};

class PipelineRun {
 public:
  // `epoch_records` > 0: epochs of that many raw records (polls of half), a checkpoint
  // every `checkpoint_every` epochs; 0 keeps the default pipeline's settings.
  explicit PipelineRun(const std::string& prefix, int epoch_records = 0, int checkpoint_every = 2);

  std::filesystem::path raw() const { return dir_.path() / "raw"; }
  std::filesystem::path data() const { return data_; }
  std::filesystem::path tables() const { return data_ / "tables"; }
  const std::filesystem::path& config() const { return config_; }
  const TempDir& dir() const { return dir_; }
  // Another data root for the same input and config (a second, independent run).
  void set_data(const std::filesystem::path& data) { data_ = data; }
  // Replaces the first `from` in the config by `to` (fails the test when absent).
  void edit_config(const std::string& from, const std::string& to);

  // "PINSTREAM_SOURCE=files PINSTREAM_FILES=... PINSTREAM_DATA=... " for a shell command.
  std::string env() const;
  // `pinstream <args>`; returns the exit code, output (stderr merged when `merge`) in *out.
  int pinstream(const std::string& args, std::string* out = nullptr, bool merge = true) const;
  // `pinstream run --config C --until-idle`.
  int run_until_idle(std::string* out = nullptr) const;
  // `pinstream run --config C <extra>` in the background, output appended to `log`.
  pid_t spawn(const std::string& extra, const std::filesystem::path& log) const;
  // A view's answer from the committed state (`query --config`), or the stats object.
  nlohmann::json query(const std::string& view) const;
  nlohmann::json stats() const;
  // The `ind` keys in a table's active files, with multiplicity (empty table: empty set).
  std::multiset<int64_t> keys(const std::string& table) const;
  // `columns` of a table's rows, sorted by `order_by`, as JSON text: for comparing two runs.
  std::string rows(const std::string& table, const std::string& columns = "*",
                   const std::string& order_by = "ind") const;

 private:
  TempDir dir_;
  std::filesystem::path data_, config_;
};

// Copies an S3-sink input `raw` into two: the first file of every partition ("+0.json")
// under `first`, the others under `later` (input that arrives in two steps).
void split_input(const std::filesystem::path& raw, const std::filesystem::path& first,
                 const std::filesystem::path& later);

// The views of the default pipeline (SPEC section 4).
extern const char* const kDefaultViews[11];

}  // namespace pinstream::testing
