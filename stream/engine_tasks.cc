// Engine: per-task state (SPEC section 9). Each task's dedup claims, join parts and
// aggregate groups live under its own key prefix (state/task_prefix.h), so that a task's
// state is its own; records go to the task of their partition (cached per partition index).
// Windows close at the watermark over every partition (the minimum over the tasks) when no
// task's join holds them, and their rows merge the tasks' partials (state::TaskAggregates).
// `single` mode is task 0 only: the keys, objects and calls of before.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "state/task_prefix.h"
#include "stream/engine_internal.h"

namespace pinstream::runtime {
using core::Result;
using core::Status;

int32_t Engine::task_of(const core::PartitionRef& part) const {
  if (cfg_.tasks == TaskMode::kSingle) return 0;
  return std::max<int32_t>(0, task_of_partition(part.id).value_or(0));
}

Result<Engine::TaskRt> Engine::open_task(int32_t task) {
  TaskRt rt;
  if (plan_->join) {
    auto it = joins_.find(task);
    if (it == joins_.end()) {
      PS_ASSIGN_OR_RETURN(auto join, plan_->build_task_join(cfg_, *store_, task));
      it = joins_.emplace(task, join.get()).first;
      owned_joins_.push_back(std::move(join));
    }
    rt.join = it->second;
  }
  if (aggregates_) {
    PS_ASSIGN_OR_RETURN(rt.aggregates, aggregates_->task(task));
  }
  return rt;
}

Status Engine::route_partitions() {
  while (task_by_part_.size() < parts_.size()) {
    PS_ASSIGN_OR_RETURN(TaskRt rt, open_task(task_of(parts_[task_by_part_.size()])));
    task_by_part_.push_back(rt);
  }
  return Status::ok();
}

void Engine::route_ingest_partitions() {
  const auto& parts = source_->partitions();
  while (dedup_by_part_.size() < parts.size())
    dedup_by_part_.push_back(&dedups_->task(task_of(parts[dedup_by_part_.size()])));
}

Status Engine::open_tasks() {
  if (plan_->join) joins_[0] = plan_->join.get();
  if (plan_->aggregates) {
    const std::string et =
        plan_->event_time_stream >= 0
            ? plan_->streams[static_cast<size_t>(plan_->event_time_stream)].cfg->event_time
            : "";
    aggregates_ = std::make_unique<state::TaskAggregates>(
        *store_, *cfg_.aggregates, plan_->derive->output_schema(), et, plan_->aggregates.get());
  }
  if (reload_task0_) PS_RETURN_IF_ERROR(reload_task(0));
  if (cfg_.tasks == TaskMode::kPartitions) {
    // Their joins' waiting parts hold windows open before any of their records comes again.
    for (int32_t task : tasks_of(meta_.positions)) {
      PS_RETURN_IF_ERROR(open_task(task).status());
      dedups_->task(task);
    }
  }
  PS_RETURN_IF_ERROR(route_partitions());
  route_ingest_partitions();
  return Status::ok();
}

Status Engine::check_task_mode() const {
  if (meta_.tasks == cfg_.tasks) return Status::ok();
  // Anything but meta/ and the join's column names (written with the first epoch) is state.
  bool any = false;
  Status st = store_->live().scan("", [&](std::string_view k, std::string_view) {
    if (k.substr(0, 5) == "meta/") return true;
    std::string_view rest = k;
    if (auto t = state::task_of_key(k)) rest.remove_prefix(state::task_prefix(*t).size());
    if (rest.substr(0, 3) == "jc/") return true;
    any = true;
    return false;
  });
  PS_RETURN_IF_ERROR(st);
  if (!any) return Status::ok();
  const char* was = task_mode_name(meta_.tasks);
  std::string replay;
  for (const auto& m : checkpoint_list())
    if (m.epoch == 0)
      replay = ", or rebuild it all with: pinstream replay --config " + cfg_.file +
               " --from-checkpoint " + m.id;
  return Status::invalid("data directory " + cfg_.runtime.data_dir +
                         " holds state written with pipeline.tasks: " + was +
                         ", which cannot be split by partition for pipeline.tasks: " +
                         task_mode_name(cfg_.tasks) + "; keep pipeline.tasks: " + was +
                         ", or start a new runtime.data_dir (or pipeline id)" + replay);
}

Status Engine::expire_joins(std::vector<state::Join::Expired>& expired) {
  const int64_t now = opts_.clock->now_micros();
  for (auto& [task, join] : joins_) PS_RETURN_IF_ERROR(join->expire(now, &expired).status());
  if (joins_.size() > 1)
    std::stable_sort(expired.begin(), expired.end(),
                     [](const auto& a, const auto& b) { return a.key < b.key; });
  return Status::ok();
}

void Engine::flush_task_state(state::StateStore::WriteBatch& batch) {
  for (auto& [task, join] : joins_) join->flush(batch);
  if (aggregates_) aggregates_->flush(batch);
  if (shared_windows_) shared_windows_->flush(batch);
}

}  // namespace pinstream::runtime
