#include "state/task_dedups.h"

#include "state/task_prefix.h"

namespace pinstream::state {

TaskDedups::TaskDedups(StateStore& store, Dedup::Options opts) : store_(store), opts_(opts) {
  opts_.shared_count = &cached_;
}

Dedup& TaskDedups::task(int32_t task) {
  auto& d = tasks_[task];
  if (!d) d = std::make_unique<Dedup>(store_, opts_, task_prefix(task));
  return *d;
}

void TaskDedups::forget(int32_t task) {
  if (auto it = tasks_.find(task); it != tasks_.end()) it->second->forget();
}

void TaskDedups::flush(StateStore::WriteBatch& batch) {
  for (auto& [task, d] : tasks_) d->flush(batch);
}

bool TaskDedups::spilled() const {
  for (const auto& [task, d] : tasks_)
    if (d->spilled()) return true;
  return false;
}

}  // namespace pinstream::state
