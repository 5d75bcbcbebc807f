// Does the state agree with the tables? Exactly-once rests on each table's Delta `txn`
// {appId: pinstream-<id>-g<generation> or, per task, pinstream-<id>-p<p>[-g<generation>],
// version: epoch} matching the state's epoch (SPEC sections 6 and 9). The txns of one
// commit land together: the newest of the state's generation, in either form, is the
// table's epoch (so a restart may switch pipeline.tasks). These checks run at start, at
// replay and in `pinstream verify`; each disagreement is one line naming the table, both
// sides and the command that repairs it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stream/checkpoints.h"
#include "stream/core/status.h"
#include "stream/epoch_meta.h"

namespace pinstream::runtime {

// What one table's log says, read by the caller.
struct TableFacts {
  std::string name;
  std::string dir;
  int64_t version = -1;                // the latest version the log reaches without a gap
  int64_t max_commit = -1;             // the newest commit file present (a gap when > version)
  std::map<std::string, int64_t> txn;  // appId -> version
};

// The state's side: `fresh` when the state holds no epoch at all (never ran, or lost).
struct StateFacts {
  const EpochMeta* meta = nullptr;
  bool fresh = false;
  std::string state_dir;
  // Other processes may commit tasks of this pipeline to the same tables (`tasks:
  // partitions` over a Kafka group, SPEC section 9): per-task txns of tasks the state holds
  // no position for are theirs and not compared (the source refuses such a task if it is
  // ever assigned here: stream/task_guard.h).
  bool shared_tasks = false;
};

// Every disagreement between the state and the tables, one line each (without the repair
// hint): a gap in a table's log, a table whose log ends before the version the state
// recorded, a table holding a later epoch or generation of this pipeline than the state,
// an empty state while tables hold this pipeline's commits.
std::vector<std::string> compare_state_and_tables(const StateFacts& state,
                                                  const std::string& pipeline_id,
                                                  const std::vector<TableFacts>& tables);

// The newest checkpoint whose every table version is <= what that table's log holds now
// (so that `replay` can restore to it); empty when none qualifies.
std::string repair_checkpoint(const std::vector<CheckpointManifest>& checkpoints,
                              const std::vector<TableFacts>& tables);

// "; repair with: pinstream replay --config F --from-checkpoint ID", or what to do when no
// checkpoint can repair it.
std::string repair_hint(const std::vector<CheckpointManifest>& checkpoints,
                        const std::vector<TableFacts>& tables, const std::string& config_file);

// Ok, or Corruption with the first disagreement and the repair hint.
core::Status check_state_against_tables(const StateFacts& state, const std::string& pipeline_id,
                                        const std::vector<TableFacts>& tables,
                                        const std::vector<CheckpointManifest>& checkpoints,
                                        const std::string& config_file);

// The epoch metadata of the RocksDB state in `state_dir`, opened read-only (no lock, files
// untouched): nullopt when it holds none; NotFound when there is no state; Corruption/IoError
// when RocksDB cannot open it.
core::Result<std::optional<EpochMeta>> read_epoch_meta(const std::string& state_dir);

// The restored state of checkpoint `m` must be the one its manifest describes.
core::Status check_restored_checkpoint(const CheckpointManifest& m, const EpochMeta* restored);

}  // namespace pinstream::runtime
