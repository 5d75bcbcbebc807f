// Engine: window tables shared by the members of a group (SPEC section 9; shared_windows.h).
// A member puts its tasks' partials of the windows it closes and their frontiers in the
// checkpoint store; the member owning task 0 merges the windows every task passed into
// their tables. A single process (no group) never comes here.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "stream/engine_internal.h"
#include "stream/task_guard.h"
#include "stream/tasks.h"

namespace pinstream::runtime {
using core::Result;
using core::Status;

Status Engine::open_shared_windows() {
  if (!aggregates_ || !plan_->aggregates || !checkpoints_ || !shares_tasks(cfg_))
    return Status::ok();
  std::vector<SharedWindows::Table> tables;
  const auto specs = plan_->aggregates->specs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i]->windowed && !specs[i]->table.empty()) tables.push_back({specs[i], i});
  if (tables.empty()) return Status::ok();
  if (cfg_.runtime.checkpoints.empty())
    spdlog::warn(
        "The members of this group merge their window tables through the checkpoint store, "
        "but runtime.checkpoints is not set: each member has its own, and windows wait for the "
        "other members' tasks; set PINSTREAM_CHECKPOINTS to one store for every member. "
        "store={}",
        checkpoints_->describe());
  // The store's shared root (a member's own checkpoints are under members/<instance>/).
  CheckpointStore& shared = task_store_ ? *task_store_ : *checkpoints_;
  shared_windows_ = std::make_unique<SharedWindows>(shared.objects(), std::move(tables));
  aggregates_->close_tasks_apart();
  return shared_windows_->load(store_->live());
}

std::set<int32_t> Engine::owned_tasks() const {
  std::set<int32_t> out;
  for (const auto& p : parts_)
    if (int32_t task = task_of(p); !released_.count(task)) out.insert(task);
  // A task imported with nothing left to read (its checkpoint at the partitions' ends) has
  // no partition here, yet it is this member's: its partials and frontier come from here.
  for (const auto& [id, pos] : meta_.positions)
    if (auto task = task_of_partition(id); task && !released_.count(*task)) out.insert(*task);
  return out;
}

bool Engine::shared_windows_writer() const { return shared_windows_ && owned_tasks().count(0) > 0; }

Status Engine::close_shared_windows(int64_t watermark, bool close_all,
                                    const state::Aggregates::HeldQuery& held) {
  std::map<int32_t, std::vector<std::map<std::string, state::GroupPartial>>> by_task;
  std::vector<std::vector<int64_t>> closed;
  PS_RETURN_IF_ERROR(aggregates_->close_task_partials(watermark, close_all, held, by_task, closed));
  for (const auto& starts : closed) seal_changed_ = seal_changed_ || !starts.empty();
  const std::set<int32_t> owned = owned_tasks();
  for (const auto& [task, groups] : by_task)
    if (owned.count(task)) PS_RETURN_IF_ERROR(shared_windows_->publish_partials(task, groups));
  // After the partials: a frontier read means every partial below it is there.
  std::optional<int64_t> hold;
  for (const auto& [task, join] : joins_)
    if (auto h = join->earliest_hold(); h && (!hold || *h < *hold)) hold = h;
  // A task whose event-time partition nobody has read yet (here, or before its checkpoint
  // was taken) puts no frontier: the watermark leaves that partition out, and its first
  // records may fall in any window. Its windows wait (`--stats` lists them).
  std::set<int32_t> timed;
  for (const auto& [id, max] : meta_.event_time_max)
    if (auto t = task_of_partition(id)) timed.insert(*t);
  const auto specs = plan_->aggregates->specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i]->windowed || specs[i]->table.empty()) continue;
    const int64_t f = SharedWindows::frontier(*specs[i], watermark, aggregates_->earliest_open(i),
                                              hold, close_all);
    for (int32_t task : owned)
      if (close_all || timed.count(task))
        PS_RETURN_IF_ERROR(shared_windows_->publish_frontier(task, i, f));
  }
  return merge_shared_windows().status();
}

Result<bool> Engine::merge_shared_windows() {
  if (!shared_windows_writer()) return false;
  const int32_t total = source_->task_count();
  if (total <= 0) return false;  // not known before the first assignment
  std::map<std::string, std::vector<core::Row>> rows;
  std::vector<SharedWindows::Waiting> waiting;
  PS_RETURN_IF_ERROR(shared_windows_->merge_ready(total, rows, waiting));
  report_waiting(waiting);
  const bool any = !rows.empty() || shared_windows_->dirty();
  seal_changed_ = seal_changed_ || any;
  PS_RETURN_IF_ERROR(append_window_rows(rows));
  return any;
}

// `query --stats` shows the waiting windows at once; the log says it when they change, at
// most once per table every 30 s.
void Engine::report_waiting(const std::vector<SharedWindows::Waiting>& waiting) {
  metrics_.windows_waiting.clear();
  std::string text;
  for (const auto& w : waiting) {
    metrics_.windows_waiting.push_back({w.table, w.window_start, w.tasks, w.windows});
    std::string tasks;
    for (int32_t t : w.tasks) tasks += (tasks.empty() ? "" : ",") + std::to_string(t);
    text += " table=" + w.table + " window_start=" + core::format_timestamp(w.window_start) +
            " windows=" + std::to_string(w.windows) + " waiting_for_tasks=" + tasks;
  }
  const int64_t now = opts_.clock->steady_micros();
  if (text == waiting_logged_ || (now - waiting_logged_at_ < 30'000'000 && waiting_logged_at_))
    return;
  waiting_logged_ = text;
  waiting_logged_at_ = now;
  if (text.empty())
    spdlog::info("Shared window tables: no window waits for a task's partial.");
  else
    spdlog::info("Shared window tables: windows wait for tasks' partials.{}", text);
}

Status Engine::append_window_rows(std::map<std::string, std::vector<core::Row>>& rows) {
  for (auto& [name, list] : rows) {
    TableRt* t = table(name);
    if (!t) return Status::internal("no table for closed windows of '" + name + "'");
    CpuTimer timer(encode_cpu_us_);
    for (const auto& r : list) PS_RETURN_IF_ERROR(t->append(r));
  }
  return Status::ok();
}

}  // namespace pinstream::runtime
