// The aggregates of every task of one process (SPEC section 9): one Aggregates per task, each
// over its task's keys (task_prefix.h), so that a task's state is its own and could move to
// another process. Rows go to the task of their partition; a closing window's row is the
// merge (merge_group) of every task's partial for that window and group, so any number of
// tasks writes the rows one instance fed every row would. Views read the merged rows of the
// tasks a committed epoch covers (read_rows). One task (task 0, `pipeline.tasks: single`) is
// exactly the one Aggregates of before: the same keys, the same calls. Not thread-safe
// (read_rows is: it reads a Reader).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state/aggregates.h"

namespace pinstream::state {

class TaskAggregates {
 public:
  // `task0`: task 0's instance (built over the unprefixed keys, owned by the caller, kept
  // alive longer than this); `config`, `input`, `event_time_column` build the other tasks'.
  TaskAggregates(StateStore& store, const core::ConfigNode& config, core::Schema input,
                 std::string event_time_column, Aggregates* task0);
  // Task `task`'s instance, built (its committed state loaded) on first use; windows the
  // other tasks closed are closed in it too. Errors as Aggregates::build.
  core::Result<Aggregates*> task(int32_t task);
  // Task `task`'s instance built again from the store (its state was replaced there: a task
  // handed over from another process), replacing the one in use (task 0's too).
  core::Result<Aggregates*> reload(int32_t task);
  // The tasks built so far, ascending.
  std::vector<int32_t> tasks() const;
  // Closes the windows every task agrees on (the same watermark and holds for all): with
  // one task its rows as Aggregates::close_windows makes them, else each window's groups
  // merged over the tasks; a window one task closes is closed in all.
  core::Status close_windows(int64_t watermark_micros, bool final,
                             const Aggregates::HeldQuery& held,
                             std::map<std::string, std::vector<core::Row>>& table_rows);
  // The same windows as close_windows() closes, each task's groups kept apart instead of
  // merged into rows: `by_task[t][i]` gets aggregate i's groups of task t's closing windows
  // (by key suffix: window start, then group values); `closed[i]` the starts of aggregate
  // i's windows that closed in any task. For members that hand their tasks' partials to
  // the one that writes the window tables (SPEC section 9).
  core::Status close_task_partials(
      int64_t watermark_micros, bool final, const Aggregates::HeldQuery& held,
      std::map<int32_t, std::vector<std::map<std::string, GroupPartial>>>& by_task,
      std::vector<std::vector<int64_t>>& closed);
  // Members of a group (SPEC section 9): each task closes its windows itself and its partials
  // are merged by the window tables' writer, so a window one task closed is not closed in the
  // others. A task imported from a member whose watermark was behind keeps the windows it
  // holds open, closes them here and puts their partials (the writer waits for them).
  void close_tasks_apart() { apart_ = true; }
  // The earliest start of aggregate `aggregate`'s windows still open in any task.
  std::optional<int64_t> earliest_open(size_t aggregate) const;
  void flush(StateStore::WriteBatch& batch);
  int64_t skipped_closed() const;
  size_t groups_in_memory() const;
  // Every group of `spec` over `tasks` (their key prefixes), merged, as output rows in key
  // order. {0}: the unprefixed keys, read as Aggregates::read_rows reads them.
  static core::Status read_rows(const Aggregates& any, const AggregateSpec& spec,
                                const StateStore::Reader& reader, const std::vector<int32_t>& tasks,
                                std::vector<core::Row>& rows);
  // Task `task`'s groups of `spec` (its key prefix), by key suffix: one task's share, to be
  // merged (merge_group) with other tasks' shares, possibly another process's (SPEC
  // section 9). Corruption when a stored group cannot be decoded.
  static core::Status read_task_partials(const AggregateSpec& spec,
                                         const StateStore::Reader& reader, int32_t task,
                                         std::map<std::string, GroupPartial>& out);
  // The output rows of merged partials, in key order, appended to `rows`.
  static core::Status rows_of(const AggregateSpec& spec,
                              const std::map<std::string, GroupPartial>& merged,
                              std::vector<core::Row>& rows);

 private:
  void spread_closed(const std::vector<std::vector<int64_t>>& closed);

  StateStore& store_;
  const core::ConfigNode& config_;
  core::Schema input_;
  std::string event_time_;
  std::map<int32_t, Aggregates*> tasks_;
  std::vector<std::unique_ptr<Aggregates>> owned_;
  bool apart_ = false;  // close_tasks_apart
};

}  // namespace pinstream::state
