// The JSON account a `run` or `replay` leaves for a scheduler (--summary FILE, `-` for
// stdout): when it ran, what it read and wrote per stream, partition and table, the
// checkpoint it kept and how it ended. The schema is in README.md ("Run summaries").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "stream/core/status.h"
#include "stream/epoch_meta.h"

namespace pinstream::cli {

class RunSummary {
 public:
  RunSummary(std::string command, std::string mode);
  // The committed state and tables when processing starts (after recovery or restore).
  void at_start(const runtime::EpochMeta& meta, std::map<std::string, int64_t> table_versions,
                const core::Positions& end_positions);
  // The committed state and tables after the last commit.
  void at_end(const runtime::EpochMeta& meta, std::map<std::string, int64_t> table_versions);
  void checkpoint(std::string id, int64_t epoch);
  // Writes the summary with `exit_code` and `error` (empty: none) to `path` (atomically:
  // a temporary file renamed) or stdout for "-". IoError naming the path.
  core::Status write(const std::string& path, int exit_code, const std::string& error) const;
  std::string to_json(int exit_code, const std::string& error) const;

 private:
  std::string command_, mode_;
  int64_t started_micros_ = 0;
  std::optional<runtime::EpochMeta> start_, end_;
  std::map<std::string, int64_t> versions_start_, versions_end_;
  core::Positions ends_;
  std::string checkpoint_id_;
  int64_t checkpoint_epoch_ = 0;
};

}  // namespace pinstream::cli
