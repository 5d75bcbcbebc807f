#include "stream/task_taker.h"

#include <spdlog/spdlog.h>

#include "stream/task_handoff.h"
#include "stream/tasks.h"

namespace pinstream::runtime {

TaskTaker::TaskTaker(std::shared_ptr<TaskGuard> guard, std::unique_ptr<TaskCheckpoints> checkpoints,
                     Hooks hooks)
    : guard_(std::move(guard)), checkpoints_(std::move(checkpoints)), hooks_(std::move(hooks)) {}

core::Result<std::optional<std::string>> TaskTaker::take(const std::string& partition_id) {
  const int32_t task = task_of_partition(partition_id).value_or(0);
  if (auto it = imported_.find(task); it != imported_.end()) {
    if (!handed_[task].insert(partition_id).second) return std::optional<std::string>();
    auto pos = it->second.find(partition_id);
    return std::optional<std::string>(pos == it->second.end() ? "" : pos->second);
  }
  PS_ASSIGN_OR_RETURN(std::optional<int64_t> v, guard_->tables_epoch(task));
  EpochMeta local = hooks_.committed();
  // Given away since (the engine drops it from its state at its next seal, and the committed
  // metadata may still list it): never this state's to read on from.
  if (gone_.count(task)) local.task_epochs.erase(task);
  TaskDecision d = decide_task(task, local, v, checkpoints_->newest(task));
  const std::string said = std::string(task_take_name(d.take)) + d.reason;
  if (logged_[task] != said) {
    logged_[task] = said;
    note_held(task, d.take == TaskTake::kHeld, d.reason);
    if (d.take == TaskTake::kHeld)
      spdlog::warn("Task held paused. task={} tables_epoch={} reason={}", task, v.value_or(0),
                   d.reason);
    else
      spdlog::info("Task taken. task={} how={} tables_epoch={} checkpoint_epoch={}", task,
                   task_take_name(d.take), v.value_or(0), d.checkpoint ? d.checkpoint->epoch : 0);
  }
  switch (d.take) {
    case TaskTake::kOwned:
    case TaskTake::kFresh:
      return std::optional<std::string>();
    case TaskTake::kHeld:
      return core::Status::unavailable(d.reason);
    case TaskTake::kImport:
      break;
  }
  PS_RETURN_IF_ERROR(hooks_.import(*d.checkpoint, v.value_or(0)));
  gone_.erase(task);
  imported_[task] = d.checkpoint->positions;
  handed_[task].insert(partition_id);
  auto pos = d.checkpoint->positions.find(partition_id);
  return std::optional<std::string>(pos == d.checkpoint->positions.end() ? "" : pos->second);
}

void TaskTaker::forget(int32_t task) {
  gone_.insert(task);
  imported_.erase(task);
  handed_.erase(task);
  logged_.erase(task);
  note_held(task, false, "");
}

void TaskTaker::note_held(int32_t task, bool held, const std::string& reason) {
  std::lock_guard<std::mutex> lock(held_mu_);
  if (held)
    held_[task] = reason;
  else
    held_.erase(task);
}

std::map<int32_t, std::string> TaskTaker::held() const {
  std::lock_guard<std::mutex> lock(held_mu_);
  return held_;
}

}  // namespace pinstream::runtime
