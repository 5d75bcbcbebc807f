// `pinstream verify`: the state, the checkpoints and every table checked against each other
// (SPEC section 1): each table's log continuity, every live data file (present, sized and
// CRC-32C-checked as written), each table's txn against the state's epoch and generation,
// and each checkpoint's state and table versions against its manifest and the tables.
// Read-only: it runs beside a live daemon (reading what is committed at that moment).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stream/pipeline_config.h"

namespace pinstream::runtime {

struct VerifyReport {
  std::vector<std::string> problems;  // one line each
  int64_t tables = 0, files = 0, checkpoints = 0;
  int64_t epoch = 0, generation = 0;  // the state's
  // Per txn appId of the state's generation (one per task in `partitions` mode, one in
  // `single`): each table's txn version.
  std::map<std::string, std::map<std::string, int64_t>> task_txns;
  bool ok() const { return problems.empty(); }
};

VerifyReport verify_pipeline(const PipelineConfig& cfg);

}  // namespace pinstream::runtime
