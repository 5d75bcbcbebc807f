// Window tables of a pipeline shared by several members (SPEC sections 4 and 9): each
// member closes the windows of its own tasks at its own watermark, but a window's rows must
// merge every task's partial, so no member writes window rows itself. It puts each owned
// task's partial of each closing window under `windows/<table>/<window_start>/p<task>` in
// the checkpoint store's shared namespace, then the task's frontier
// (`windows/<table>/frontier/p<task>`: the task will put no partial for a window starting
// before it). The member owning task 0 is the writer: at each epoch it merges, in window
// order, the windows every task's frontier has passed (merge_group: exact for every
// measure), stages their rows and the last window written (a key among task 0's aggregate
// keys, so it moves with task 0) in its epoch's commit, and removes the merged partials once
// that commit landed. A window waits while any task's frontier has not passed it.
// Not thread-safe: the engine thread's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "state/aggregates.h"
#include "state/state_store.h"

namespace pinstream::runtime {

class SharedWindows {
 public:
  // A windowed aggregate with a table: its index among the aggregates' specs().
  struct Table {
    const state::AggregateSpec* spec = nullptr;
    size_t aggregate = 0;
  };
  // `store`: the checkpoint store's objects(), outliving this.
  SharedWindows(connectors::objstore::ObjectStore& store, std::vector<Table> tables);

  // Member side. Puts `task`'s partial of each window in `groups` (by aggregate index, key
  // suffixes starting with the window start, as TaskAggregates::close_task_partials gives
  // them), replacing an earlier one (a redo after a crash puts the same). The store's error.
  core::Status publish_partials(
      int32_t task, const std::vector<std::map<std::string, state::GroupPartial>>& groups);
  // Puts `task`'s frontier of aggregate `aggregate` when it changed since the last put: the
  // task puts no partial for a window starting before it (call after publish_partials).
  core::Status publish_frontier(int32_t task, size_t aggregate, int64_t frontier);

  // Writer side. The last window written per table, from task 0's keys in `reader`.
  core::Status load(const state::StateStore::Reader& reader);
  // `task` came to this member or left it (task hand-off): its frontiers are put again, and
  // for task 0 the last windows written are read again from `reader` (they move with it).
  core::Status task_moved(int32_t task, const state::StateStore::Reader& reader);
  // A window whose rows wait for tasks (the earliest per table).
  struct Waiting {
    std::string table;
    int64_t window_start = 0;
    std::vector<int32_t> tasks;  // whose frontier has not passed it
    int64_t windows = 0;         // windows of the table waiting
  };
  // Removes the partials of windows written before (their commit landed: call after the
  // previous epoch's state write), then merges the windows every one of `task_count` tasks'
  // frontiers passed, in order: their rows into `rows` by table (flush() stages the last
  // window written). `waiting` gets the first window still waiting per table. Errors: the
  // store's, Corruption for an unreadable partial.
  core::Status merge_ready(int32_t task_count, std::map<std::string, std::vector<core::Row>>& rows,
                           std::vector<Waiting>& waiting);
  // Whether merge_ready wrote windows not yet flushed.
  bool dirty() const { return !dirty_.empty(); }
  // The last window written of each table merge_ready moved, into the epoch's batch.
  void flush(state::StateStore::WriteBatch& batch);
  // Removes the partials of every window written so far (their commit must have landed).
  core::Status remove_written();

  // The state key of a table's last window written (task 0's, under its aggregate prefix).
  static std::string written_key(const std::string& table);
  // The frontier of a task closing at `watermark` whose earliest open window starts at
  // `open` and whose earliest held event time is `hold` (nullopt: none): the earliest window
  // of `spec` it may still close. `final`: every window is closed.
  static int64_t frontier(const state::AggregateSpec& spec, int64_t watermark,
                          std::optional<int64_t> open, std::optional<int64_t> hold, bool final);
  std::optional<int64_t> last_written(const std::string& table) const;

 private:
  struct Listing;
  core::Status list(const Table& t, Listing& out);
  core::Status merge_window(const Table& t, const std::vector<std::string>& keys,
                            std::vector<core::Row>& rows);

  connectors::objstore::ObjectStore& store_;
  std::vector<Table> tables_;
  std::map<std::string, int64_t> written_;                   // table -> last window start
  std::map<std::pair<int32_t, size_t>, int64_t> frontiers_;  // last put, by (task, aggregate)
  std::set<std::string> dirty_;  // tables whose last window written is to flush
};

}  // namespace pinstream::runtime
