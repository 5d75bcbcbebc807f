// Task checkpoints (SPEC section 9, task hand-off): one task's whole state and positions as
// one object, `tasks/p<p>/<epoch %08d>.task` in the checkpoint store's shared namespace
// (CheckpointStore::objects()), so that a task can move to another member of the group.
// The object holds the format version, pipeline id, task, epoch E (the txn version the
// tables hold for the task when it was written: its commits up to E have landed),
// generation, the positions, event-time maxima and raw-archive starts of the task's
// partitions, the task's counters, every state key of the task with its value
// (state/task_state.h), and a CRC-32C of all of it. Written with put_if_absent; the newest 2
// per task are kept.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "state/state_store.h"
#include "stream/epoch_meta.h"

namespace pinstream::runtime {

struct TaskCheckpoint {
  static constexpr int kFormat = 1;
  std::string pipeline_id;
  int32_t task = 0;
  int64_t epoch = 0;  // E: the tables hold the task's commits up to E, none after
  int64_t generation = 0;
  core::Positions positions;                               // the task's partitions only
  std::map<std::string, int64_t> event_time_max;           // by partition id
  std::map<std::string, int64_t> archive_next;             // by partition id
  std::map<std::string, StreamCounters> counters;          // EpochMeta::task_counters[task]
  std::vector<std::pair<std::string, std::string>> state;  // every key of the task, in order
};

// "tasks/p<p>/<epoch %08d>.task".
std::string task_checkpoint_key(int32_t task, int64_t epoch);

std::string encode_task_checkpoint(const TaskCheckpoint& ck);
// Corruption naming `name` for a damaged object (checksum, truncation, unknown format, a
// task other than its name says), InvalidArgument naming it for another pipeline's.
core::Result<TaskCheckpoint> decode_task_checkpoint(std::string_view bytes, const std::string& name,
                                                    const std::string& pipeline_id);

// Task `task` as the state read by `snapshot` holds it (its meta/epoch and keys, one
// consistent view). The caller guarantees the tables hold the commit of the snapshot's
// epoch. InvalidArgument when the task's rows are not all committed yet (an open
// `tables.commit_every` group), NotFound when the state holds no epoch.
core::Result<TaskCheckpoint> export_task(const state::StateStore::Reader& snapshot, int32_t task);

// Imports `ck` into `store`, whose committed metadata is `meta` (updated on success): the
// task's keys are deleted and the checkpoint's written, with the task's positions, maxima,
// counters and `task_epochs`, in one synchronous write. Epoch jump: the next epoch is
// greater than both the checkpoint's epoch and `tables_epoch` (the newest txn version the
// tables hold for the task), so that commits of this process for the task are never taken
// for ones already present. The caller guarantees the commits of meta.epoch have landed
// (meta.pending is cleared: after a jump those adds must not be committed again under the
// new epoch). InvalidArgument for another pipeline or generation, or an open commit group.
core::Status import_task(state::StateStore& store, EpochMeta& meta, const TaskCheckpoint& ck,
                         int64_t tables_epoch);

// import_task in two steps, for a running engine whose metadata its own thread owns:
// write_task_state replaces the task's keys with the checkpoint's (one synchronous write;
// until the metadata follows with the next epoch, the keys are orphans no epoch covers,
// replaced again by the next import), and apply_task_checkpoint changes `meta` as
// import_task does.
core::Status write_task_state(state::StateStore& store, const TaskCheckpoint& ck);
void apply_task_checkpoint(EpochMeta& meta, const TaskCheckpoint& ck, int64_t tables_epoch);

// Removes task `task` from `store` and `meta` (its keys, positions, maxima, counters and
// task epoch) in one synchronous write: the task moved to another process. The commits of
// meta.epoch must have landed (meta.pending is cleared). The metadata written is the stored
// one without the task (`meta` may count records of an epoch not committed yet); `meta`
// loses the same part in memory.
core::Status release_task(state::StateStore& store, EpochMeta& meta, int32_t task);

// The task checkpoints of one pipeline in a store (the checkpoint store's objects()).
class TaskCheckpoints {
 public:
  TaskCheckpoints(connectors::objstore::ObjectStore& objects, std::string pipeline_id,
                  int keep = 2);
  // Writes `ck` (put_if_absent: one already written for that task and epoch is kept: the
  // state at one task epoch is one), then removes all but the newest `keep` of the task.
  core::Status publish(const TaskCheckpoint& ck);
  // The epochs of the task's checkpoints, ascending.
  core::Result<std::vector<int64_t>> epochs(int32_t task);
  // Every task that has a checkpoint in the store, ascending (a stopped pipeline's tasks).
  core::Result<std::vector<int32_t>> tasks();
  // The newest checkpoint of the task, nullopt when none; Corruption/InvalidArgument naming
  // the object when it is damaged or another pipeline's (never an older one instead).
  core::Result<std::optional<TaskCheckpoint>> newest(int32_t task);

 private:
  connectors::objstore::ObjectStore& objects_;
  std::string pipeline_id_;
  int keep_;
};

}  // namespace pinstream::runtime
