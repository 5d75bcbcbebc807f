// What one epoch commit records next to the state changes, in the same synchronous RocksDB
// write (SPEC section 6): the epoch number, the commit generation (txn appId), source
// positions, per-stream counters, per-partition event-time maxima and the table commits
// still to be applied to Delta. Serialized as one JSON value under the key "meta/epoch".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"
#include "stream/tasks.h"

namespace pinstream::runtime {

struct StreamCounters {
  int64_t read = 0;
  int64_t clean = 0;  // clean and first for their key
  int64_t dead = 0;
  int64_t duplicates = 0;
  int64_t late = 0;  // of which `future`: event time beyond the processing clock + max_future
  int64_t future = 0;
  int64_t expired = 0;  // clean parts that left the join unjoined after its expiry
  bool balanced() const { return read == clean + dead + duplicates; }
};

struct EpochMeta {
  int64_t epoch = 0;       // last committed epoch (0: none yet)
  int64_t generation = 0;  // bumped by every replay: a new txn appId
  std::string pipeline_id;
  core::Positions positions;
  std::map<std::string, StreamCounters> counters;  // by stream name
  std::map<std::string, int64_t> event_time_max;   // by partition id (micros)
  std::map<std::string, int64_t> archive_next;     // by partition id: next raw archive start
  // table name -> add actions (AddFile JSON) of this epoch, to be committed with txn = epoch
  std::map<std::string, std::vector<std::string>> pending;
  // table name -> add actions of the epochs of the open group (`tables.commit_every`): their
  // files are durable and committed with the group's last epoch (then they are in pending).
  std::map<std::string, std::vector<std::string>> group;
  // table name -> the Delta version it had reached when this epoch was sealed (after the
  // previous epochs' commits): its log must still reach at least that far at restart.
  std::map<std::string, int64_t> table_versions;
  // table name -> the last epoch of this generation whose commit had rows for it. A table
  // with no rows in an epoch gets no commit, so its txn may lag `epoch`, but never this.
  std::map<std::string, int64_t> table_epochs;
  int64_t committed_at_micros = 0;
  // How this epoch's table commits name their txns (pipeline.tasks when it was sealed; a
  // restart may change it: the next epochs use the new mode, see consistency.h).
  TaskMode tasks = TaskMode::kSingle;
  // pipeline.tasks: partitions: the counters per task, then per stream (`expired` stays per
  // stream only: an expired join entry has no partition). Empty in single mode.
  std::map<int32_t, std::map<std::string, StreamCounters>> task_counters;
  // pipeline.tasks: partitions: task -> the last epoch whose table commits carried its txn
  // from this state (or the epoch of the task checkpoint it was imported from): the state
  // owns a task at the tables' txn version V only when this is V (task hand-off).
  std::map<int32_t, int64_t> task_epochs;

  // The tasks whose state (dedup, join, aggregates under their key prefixes) this epoch
  // covers: {0} in single mode, else the tasks of `positions`.
  std::vector<int32_t> state_tasks() const {
    return tasks == TaskMode::kSingle ? std::vector<int32_t>{0} : tasks_of(positions);
  }
  // The single-mode appId "pinstream-<id>-g<generation>".
  std::string app_id() const {
    return task_app_ids(pipeline_id, TaskMode::kSingle, {}, generation)[0];
  }
  // This epoch's txn appIds: app_id() in single mode, else one per task of `positions`.
  std::vector<std::string> app_ids() const {
    return task_app_ids(pipeline_id, tasks, tasks_of(positions), generation);
  }
  std::string to_json() const;
  static core::Result<EpochMeta> from_json(const std::string& text);
};

inline constexpr const char* kEpochMetaKey = "meta/epoch";

}  // namespace pinstream::runtime
