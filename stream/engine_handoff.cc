// Engine: task hand-off between the members of a `tasks: partitions` group (SPEC section 9).
// A member publishes a task checkpoint of each task it holds at start (after recovery: a
// member killed with -9 hands its tasks on when it comes back) and at a stop (after the last
// commit); a member assigned a task it does not own imports the newest checkpoint on the
// polling thread (task_taker.h: the partitions read on from its positions), and the engine
// thread takes its metadata in before any record of it is processed.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string_view>

#include "state/task_state.h"
#include "stream/engine_internal.h"
#include "stream/task_guard.h"
#include "stream/task_taker.h"
#include "stream/tasks.h"

namespace pinstream::runtime {
using core::Status;

Status Engine::open_task_store() {
  if (!shares_tasks(cfg_)) return Status::ok();
  PS_ASSIGN_OR_RETURN(task_store_,
                      open_checkpoint_store(cfg_.runtime.checkpoints_dir(), cfg_.runtime.data_dir));
  return Status::ok();
}

// Task 0's keys where the state holds no position of task 0 belong to no epoch: an import
// that a crash cut before its metadata was committed. The plan loaded them into task 0's
// join and aggregates: they are dropped and loaded again (empty) before anything reads them.
Status Engine::drop_orphan_task0() {
  const auto tasks = tasks_of(meta_.positions);
  if (meta_.positions.empty() || std::find(tasks.begin(), tasks.end(), 0) == tasks.end()) {
    bool any = false;
    // The join's column names (jc/) are written by every epoch, whatever it read.
    PS_RETURN_IF_ERROR(
        state::scan_task(store_->live(), 0, [&](std::string_view k, std::string_view) {
          any = !k.starts_with("jc/");
          return !any;
        }));
    if (any) {
      spdlog::warn("Task 0 state without a position dropped (an import cut by a crash).");
      PS_RETURN_IF_ERROR(release_task(*store_, meta_, 0));
      reload_task0_ = true;
    }
  }
  return Status::ok();
}

Status Engine::hand_over_tasks(const char* when) { return publish_tasks(when, true); }

Status Engine::publish_tasks(const char* when, bool release) {
  if (!task_store_) return Status::ok();
  if (meta_.positions.empty())
    return std::string_view(when) == "start" ? drop_orphan_task0() : Status::ok();
  const auto t0 = std::chrono::steady_clock::now();
  auto snapshot = store_->snapshot();
  TaskCheckpoints cks(task_store_->objects(), cfg_.id);
  std::vector<int32_t> done;
  size_t keys = 0;
  for (int32_t task : tasks_of(meta_.positions)) {
    auto ck = export_task(*snapshot, task);
    Status st = ck ? cks.publish(*ck) : ck.error();
    if (!st.is_ok()) {
      spdlog::error("Task checkpoint not published; the task stays here. task={} when={} error={}",
                    task, when, st.to_string());
      continue;
    }
    keys += ck->state.size();
    done.push_back(task);
  }
  if (release) {
    for (int32_t task : done) PS_RETURN_IF_ERROR(release_task(*store_, meta_, task));
    // Task 0's join and aggregates are the plan's, loaded before this: loaded again at start.
    reload_task0_ = std::find(done.begin(), done.end(), 0) != done.end();
    if (std::string_view(when) == "start") PS_RETURN_IF_ERROR(drop_orphan_task0());
  }
  spdlog::info(
      "Task checkpoints published. when={} epoch={} tasks={} keys={} ms={}", when, meta_.epoch,
      done.size(), keys,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return Status::ok();
}

// Every record handed out before the revoke is committed (the hand-off seal's epoch): the
// member given a task next finds its checkpoint at the tables' txn version and reads on
// from there. A checkpoint that could not be written leaves that task held there (logged),
// never read twice.
Status Engine::finish_hand_off() {
  PS_RETURN_IF_ERROR(publish_tasks("rebalance", false));
  source_->hand_off_done();
  return Status::ok();
}

Status Engine::absorb_releases() {
  std::vector<int32_t> got;
  {
    std::lock_guard<std::mutex> lock(imports_mu_);
    got.swap(releases_);
  }
  for (int32_t task : got) {
    PS_RETURN_IF_ERROR(release_task(*store_, meta_, task));
    PS_RETURN_IF_ERROR(reload_task(task));
    released_.insert(task);
    if (shared_windows_) PS_RETURN_IF_ERROR(shared_windows_->task_moved(task, store_->live()));
    spdlog::info("Task handed to another member. task={} epoch={}", task, meta_.epoch);
  }
  return Status::ok();
}

connectors::Membership Engine::membership(std::vector<std::string> tables) {
  connectors::Membership m = source_membership(cfg_, tables_store_, tables);
  if (!task_store_) return m;
  auto guard =
      std::make_shared<TaskGuard>(tables_store_, cfg_.tables.root, std::move(tables), cfg_.id);
  TaskTaker::Hooks hooks;
  hooks.committed = [this] { return committed().meta; };
  hooks.import = [this](const TaskCheckpoint& ck, int64_t v) { return import_task_state(ck, v); };
  auto taker = std::make_shared<TaskTaker>(
      std::move(guard), std::make_unique<TaskCheckpoints>(task_store_->objects(), cfg_.id),
      std::move(hooks));
  m.may_start_fresh = nullptr;
  m.take_partition = [taker](const std::string& id) { return taker->take(id); };
  m.hand_off = [this] { hand_off_wanted_ = true; };
  // On the ingest thread, after the hand-off seal: nothing of these tasks is in flight.
  m.released = [this, taker](const std::vector<std::string>& ids) {
    std::set<int32_t> tasks;
    for (const auto& id : ids) tasks.insert(task_of_partition(id).value_or(0));
    std::lock_guard<std::mutex> lock(imports_mu_);
    for (int32_t task : tasks) {
      taker->forget(task);
      dedups_->forget(task);
      releases_.push_back(task);
    }
  };
  held_tasks_ = [taker] { return taker->held(); };
  return m;
}

Status Engine::import_task_state(const TaskCheckpoint& ck, int64_t tables_epoch) {
  const EpochMeta now = committed().meta;
  if (ck.generation != now.generation && !(now.epoch == 0 && now.positions.empty()))
    return Status::invalid("task checkpoint of task " + std::to_string(ck.task) +
                           " is of generation " + std::to_string(ck.generation) +
                           " but this state is at generation " + std::to_string(now.generation) +
                           ": replay every member from one checkpoint generation");
  PS_RETURN_IF_ERROR(write_task_state(*store_, ck));
  dedups_->forget(ck.task);  // its claims cached here (the task was ours before) are stale
  TaskImport in{ck, tables_epoch};
  in.ck.state.clear();
  {
    std::lock_guard<std::mutex> lock(imports_mu_);
    imports_.push_back(std::move(in));
  }
  has_imports_ = true;
  spdlog::info("Task imported. task={} checkpoint_epoch={} tables_epoch={} keys={}", ck.task,
               ck.epoch, tables_epoch, ck.state.size());
  return Status::ok();
}

// Its state was replaced in the store: what this process loaded of it is stale.
Status Engine::reload_task(int32_t task) {
  if (auto j = joins_.find(task); j != joins_.end()) {
    PS_ASSIGN_OR_RETURN(auto join, plan_->build_task_join(cfg_, *store_, task));
    for (auto& r : task_by_part_)
      if (r.join == j->second) r.join = join.get();
    j->second = join.get();
    owned_joins_.push_back(std::move(join));
  }
  const std::vector<int32_t> built = aggregates_ ? aggregates_->tasks() : std::vector<int32_t>();
  if (std::find(built.begin(), built.end(), task) != built.end()) {
    PS_ASSIGN_OR_RETURN(state::Aggregates * old, aggregates_->task(task));
    PS_ASSIGN_OR_RETURN(state::Aggregates * fresh, aggregates_->reload(task));
    for (auto& r : task_by_part_)
      if (r.aggregates == old) r.aggregates = fresh;
  }
  return Status::ok();
}

Status Engine::absorb_imports() {
  if (!has_imports_.exchange(false)) return Status::ok();
  std::vector<TaskImport> got;
  {
    std::lock_guard<std::mutex> lock(imports_mu_);
    got.swap(imports_);
    // Given away and back before a seal absorbed the release: the import replaced the task's
    // keys already (write_task_state) and replaces its metadata below; the release, absorbed
    // after it, would remove what was just imported.
    for (const auto& in : got)
      releases_.erase(std::remove(releases_.begin(), releases_.end(), in.ck.task), releases_.end());
  }
  for (const auto& in : got) {
    const int32_t task = in.ck.task;
    const int64_t was = meta_.epoch;
    apply_task_checkpoint(meta_, in.ck, in.tables_epoch);
    PS_RETURN_IF_ERROR(reload_task(task));
    // Built now if not yet: a task whose checkpoint is at its partitions' ends routes no
    // record here, yet its open windows close here (their partials come from this member)
    // and its waiting posts hold them.
    PS_RETURN_IF_ERROR(open_task(task).status());
    released_.erase(task);
    if (shared_windows_) PS_RETURN_IF_ERROR(shared_windows_->task_moved(task, store_->live()));
    spdlog::info("Task reading again. task={} checkpoint_epoch={} epoch_from={} epoch_to={}", task,
                 in.ck.epoch, was, meta_.epoch);
  }
  return Status::ok();
}

}  // namespace pinstream::runtime
