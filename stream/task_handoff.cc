#include "stream/task_handoff.h"

#include <algorithm>

#include "stream/tasks.h"

namespace pinstream::runtime {
namespace {

bool holds_positions(const EpochMeta& m, int32_t task) {
  return std::any_of(m.positions.begin(), m.positions.end(),
                     [&](const auto& p) { return task_of_partition(p.first).value_or(0) == task; });
}

// The state holds the task at the tables' epoch. A state written before task epochs were
// recorded owns the tasks of its positions unless the tables are past its epoch.
bool owns(const EpochMeta& m, int32_t task, std::optional<int64_t> v) {
  if (!holds_positions(m, task)) return false;
  if (!v) return true;
  if (m.task_epochs.empty()) return m.epoch >= *v;
  auto it = m.task_epochs.find(task);
  return it != m.task_epochs.end() && it->second == *v;
}

}  // namespace

const char* task_take_name(TaskTake t) {
  switch (t) {
    case TaskTake::kOwned:
      return "owned";
    case TaskTake::kFresh:
      return "fresh";
    case TaskTake::kImport:
      return "import";
    case TaskTake::kHeld:
      return "held";
  }
  return "held";
}

TaskDecision decide_task(int32_t task, const EpochMeta& local, std::optional<int64_t> tables_epoch,
                         const core::Result<std::optional<TaskCheckpoint>>& newest) {
  TaskDecision d;
  d.tables_epoch = tables_epoch;
  const std::string name = "task " + std::to_string(task);
  if (owns(local, task, tables_epoch)) {
    d.take = TaskTake::kOwned;
    return d;
  }
  if (!newest) {
    d.reason = name + ": " + newest.error().message() + "; held until that object is replaced";
    return d;
  }
  const std::optional<TaskCheckpoint>& ck = *newest;
  if (ck && (!tables_epoch || ck->epoch >= *tables_epoch)) {
    d.take = TaskTake::kImport;
    d.checkpoint = *ck;
    return d;
  }
  if (!ck && !tables_epoch && !holds_positions(local, task)) {
    d.take = TaskTake::kFresh;
    return d;
  }
  const std::string v = std::to_string(tables_epoch.value_or(0));
  if (!ck)
    d.reason = name + ": the tables hold its epoch " + v +
               " but no task checkpoint of it exists; held until its owner publishes one (when "
               "it stops, when the task is revoked from it, or when it starts again)";
  else
    d.reason = name + ": its newest task checkpoint is at epoch " + std::to_string(ck->epoch) +
               " but the tables hold epoch " + v +
               " (its owner committed after it and stopped without publishing); held until "
               "its owner starts again and publishes it";
  return d;
}

}  // namespace pinstream::runtime
