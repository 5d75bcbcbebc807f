// Who reads a task next (SPEC section 9, task hand-off): decided when a member of a
// `tasks: partitions` group is assigned a task, from the tables' newest txn version V of the
// task, this process's state, and the task's newest task checkpoint (task_checkpoint.h).
// A task is never read again from a position older than what the tables hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stream/epoch_meta.h"
#include "stream/task_checkpoint.h"

namespace pinstream::runtime {

enum class TaskTake {
  kOwned,   // this state holds the task at V: read on from its positions
  kFresh,   // no txn, no checkpoint, no position: read from the start
  kImport,  // import the checkpoint (its epoch >= V) and read on from its positions
  kHeld,    // nothing here can continue the task: keep it paused, check again later
};

const char* task_take_name(TaskTake t);

struct TaskDecision {
  TaskTake take = TaskTake::kHeld;
  std::optional<int64_t> tables_epoch;       // V: none when no table holds a txn of the task
  std::optional<TaskCheckpoint> checkpoint;  // kImport: the one to import
  std::string reason;                        // kHeld: why, and what will release it
};

// `local`: this process's committed metadata. `newest`: the task's newest checkpoint (or
// the error reading it: the task is then held, never continued from an older one).
// A checkpoint whose epoch is past V qualifies too: its owner's last epochs committed no
// rows (no txn), and nothing of them is in the tables.
TaskDecision decide_task(int32_t task, const EpochMeta& local, std::optional<int64_t> tables_epoch,
                         const core::Result<std::optional<TaskCheckpoint>>& newest);

}  // namespace pinstream::runtime
