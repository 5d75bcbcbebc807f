#include "state/task_aggregates.h"

#include "state/task_prefix.h"
#include "state/window_partials.h"

namespace pinstream::state {
using core::Status;
using core::Type;
using core::Value;

namespace {

// Null is the lowest value (argmax with skip_nulls: false).
int compare_null_lowest(const Value& a, const Value& b) {
  if (a.is_null()) return b.is_null() ? 0 : -1;
  return b.is_null() ? 1 : a.compare(b);
}

// Whether `from`'s argmax winner beats `into`'s, both holding one: as update_group ranks
// rows (the larger value, ties to the smaller kept columns), so the better of two shares'
// winners is the winner of all their rows.
bool argmax_beats(const GroupState& from, const GroupState& into) {
  int c = compare_null_lowest(from.acc, into.acc);
  if (c != 0) return c > 0;
  for (size_t k = 0; k < from.kept.size() && k < into.kept.size(); ++k) {
    int kc = from.kept[k].compare(into.kept[k]);
    if (kc != 0) return kc < 0;
  }
  return false;
}

void merge_argmax(const AggregateSpec& spec, GroupState& into, const GroupState& from,
                  int64_t into_count) {
  // With skip_nulls a share has a winner once it saw a candidate (states written before
  // skip_nulls existed have a non-null acc and no candidate count); without, any row is one.
  auto has_winner = [&](const GroupState& g, int64_t count) {
    return spec.skip_nulls ? g.non_null > 0 || !g.acc.is_null() : count > 0;
  };
  const bool from_has = has_winner(from, from.count), into_has = has_winner(into, into_count);
  into.non_null += from.non_null;
  if (!from_has) return;
  if (!into_has || argmax_beats(from, into)) {
    into.acc = from.acc;
    into.kept = from.kept;
  }
}

}  // namespace

void merge_group(const AggregateSpec& spec, GroupPartial& into, const GroupPartial& from) {
  GroupState& g = into.g;
  const GroupState& f = from.g;
  const int64_t into_count = g.count;
  g.count += f.count;
  switch (spec.measure) {
    case Measure::kCount:
      return;
    case Measure::kArgmax:
      merge_argmax(spec, g, f, into_count);
      return;
    case Measure::kMedian:
      g.non_null += f.non_null;
      for (const auto& [value, n] : from.histogram) into.histogram[value] += n;
      return;
    default:
      break;
  }
  g.non_null += f.non_null;
  if (f.acc.is_null()) return;
  if (g.acc.is_null()) {
    g.acc = f.acc;
    return;
  }
  if (spec.measure == Measure::kSum) {
    if (f.acc.type == Type::kLong)
      g.acc.i += f.acc.i;
    else
      g.acc.d += f.acc.d;
  } else if (spec.measure == Measure::kMin ? f.acc.compare(g.acc) < 0 : f.acc.compare(g.acc) > 0) {
    g.acc = f.acc;
  }
}

TaskAggregates::TaskAggregates(StateStore& store, const core::ConfigNode& config,
                               core::Schema input, std::string event_time_column, Aggregates* task0)
    : store_(store),
      config_(config),
      input_(std::move(input)),
      event_time_(std::move(event_time_column)) {
  tasks_[0] = task0;
}

core::Result<Aggregates*> TaskAggregates::task(int32_t task) {
  if (auto it = tasks_.find(task); it != tasks_.end()) return it->second;
  PS_ASSIGN_OR_RETURN(auto built,
                      Aggregates::build(store_, config_, input_, event_time_, task_prefix(task)));
  if (!apart_)
    for (const auto& [t, other] : tasks_) {
      built->add_closed(*other);
      other->add_closed(*built);
    }
  Aggregates* a = built.get();
  owned_.push_back(std::move(built));
  tasks_[task] = a;
  return a;
}

core::Result<Aggregates*> TaskAggregates::reload(int32_t task) {
  auto old = tasks_.find(task);
  if (old == tasks_.end()) return this->task(task);
  PS_ASSIGN_OR_RETURN(auto built,
                      Aggregates::build(store_, config_, input_, event_time_, task_prefix(task)));
  for (auto& [t, other] : tasks_) {
    if (t == task || apart_) continue;
    built->add_closed(*other);
    other->add_closed(*built);
  }
  Aggregates* a = built.get();
  owned_.push_back(std::move(built));  // the replaced one stays alive: callers may hold it
  old->second = a;
  return a;
}

std::vector<int32_t> TaskAggregates::tasks() const {
  std::vector<int32_t> out;
  for (const auto& [t, a] : tasks_) out.push_back(t);
  return out;
}

Status TaskAggregates::close_windows(int64_t watermark, bool final,
                                     const Aggregates::HeldQuery& held,
                                     std::map<std::string, std::vector<core::Row>>& table_rows) {
  if (tasks_.size() == 1)
    return tasks_.begin()->second->close_windows(watermark, final, held, table_rows);
  std::vector<std::map<std::string, GroupPartial>> merged;
  std::vector<std::vector<int64_t>> closed;
  for (auto& [t, a] : tasks_)
    PS_RETURN_IF_ERROR(a->close_partials(watermark, final, held, merged, closed));
  spread_closed(closed);
  const std::vector<const AggregateSpec*> specs = tasks_.begin()->second->specs();
  for (size_t i = 0; i < merged.size() && i < specs.size(); ++i) {
    const AggregateSpec& spec = *specs[i];
    if (spec.table.empty() || merged[i].empty()) continue;
    PS_RETURN_IF_ERROR(rows_of_partials(spec, merged[i], table_rows[spec.table]));
  }
  return Status::ok();
}

Status TaskAggregates::close_task_partials(
    int64_t watermark, bool final, const Aggregates::HeldQuery& held,
    std::map<int32_t, std::vector<std::map<std::string, GroupPartial>>>& by_task,
    std::vector<std::vector<int64_t>>& closed) {
  for (auto& [t, a] : tasks_)
    PS_RETURN_IF_ERROR(a->close_partials(watermark, final, held, by_task[t], closed));
  if (!apart_) spread_closed(closed);
  return Status::ok();
}

// A window closed in one task is closed in every task (rows arriving for it later are
// skipped there as in the one that emitted it).
void TaskAggregates::spread_closed(const std::vector<std::vector<int64_t>>& closed) {
  for (auto& [t, a] : tasks_)
    for (size_t i = 0; i < closed.size(); ++i)
      for (int64_t start : closed[i]) a->add_closed(i, start);
}

std::optional<int64_t> TaskAggregates::earliest_open(size_t aggregate) const {
  std::optional<int64_t> out;
  for (const auto& [t, a] : tasks_)
    if (auto e = a->earliest_open(aggregate); e && (!out || *e < *out)) out = e;
  return out;
}

void TaskAggregates::flush(StateStore::WriteBatch& batch) {
  for (auto& [t, a] : tasks_) a->flush(batch);
}

int64_t TaskAggregates::skipped_closed() const {
  int64_t n = 0;
  for (const auto& [t, a] : tasks_) n += a->skipped_closed();
  return n;
}

size_t TaskAggregates::groups_in_memory() const {
  size_t n = 0;
  for (const auto& [t, a] : tasks_) n += a->groups_in_memory();
  return n;
}

Status TaskAggregates::read_rows(const Aggregates& task0, const AggregateSpec& spec,
                                 const StateStore::Reader& reader,
                                 const std::vector<int32_t>& tasks, std::vector<core::Row>& rows) {
  if (tasks.empty() || (tasks.size() == 1 && tasks[0] == 0))
    return task0.read_rows(spec, reader, rows);
  std::map<std::string, GroupPartial> merged;
  for (int32_t t : tasks)
    PS_RETURN_IF_ERROR(Aggregates::read_partials(spec, reader, task_prefix(t), merged));
  return rows_of_partials(spec, merged, rows);
}

Status TaskAggregates::read_task_partials(const AggregateSpec& spec,
                                          const StateStore::Reader& reader, int32_t task,
                                          std::map<std::string, GroupPartial>& out) {
  return Aggregates::read_partials(spec, reader, task_prefix(task), out);
}

Status TaskAggregates::rows_of(const AggregateSpec& spec,
                               const std::map<std::string, GroupPartial>& merged,
                               std::vector<core::Row>& rows) {
  return rows_of_partials(spec, merged, rows);
}

}  // namespace pinstream::state
