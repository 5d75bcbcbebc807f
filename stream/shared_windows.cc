#include "stream/shared_windows.h"

#include <algorithm>
#include <iterator>
#include <limits>

#include "state/codec.h"
#include "state/window_partials.h"

namespace pinstream::runtime {
using core::Status;
using state::GroupPartial;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr char kFrontier[] = "frontier";

std::string table_prefix(const std::string& table) { return "windows/" + table + "/"; }

// The smallest multiple of `step` greater than `x`.
int64_t next_multiple(int64_t x, int64_t step) {
  int64_t q = x / step;
  if (x % step != 0 && x < 0) --q;  // floor division
  return (q + 1) * step;
}

bool parse_i64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    out = std::stoll(s, &used);
  } catch (...) {
    return false;
  }
  return used == s.size();
}

// "p<task>" -> task; -1 when malformed.
int32_t parse_task(const std::string& s) {
  int64_t t = -1;
  if (s.size() < 2 || s[0] != 'p' || !parse_i64(s.substr(1), t) || t < 0 ||
      t > std::numeric_limits<int32_t>::max())
    return -1;
  return static_cast<int32_t>(t);
}

}  // namespace

// One table's objects: partial keys by window start and task.
struct SharedWindows::Listing {
  std::map<int64_t, std::map<int32_t, std::string>> partials;
};

SharedWindows::SharedWindows(connectors::objstore::ObjectStore& store, std::vector<Table> tables)
    : store_(store), tables_(std::move(tables)) {}

std::string SharedWindows::written_key(const std::string& table) {
  return "a/" + std::string(1, '\0') + "windows_written/" + table;
}

std::optional<int64_t> SharedWindows::last_written(const std::string& table) const {
  auto it = written_.find(table);
  return it == written_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

int64_t SharedWindows::frontier(const state::AggregateSpec& spec, int64_t watermark,
                                std::optional<int64_t> open, std::optional<int64_t> hold,
                                bool final) {
  if (final) return kMax;
  if (watermark == kMin) return kMin;
  // Windows ending after the watermark are still open; so are open and held ones.
  int64_t f = next_multiple(watermark - spec.size_micros, spec.slide_micros);
  if (open) f = std::min(f, *open);
  if (hold) f = std::min(f, next_multiple(*hold - spec.size_micros, spec.slide_micros));
  return f;
}

Status SharedWindows::publish_partials(
    int32_t task, const std::vector<std::map<std::string, GroupPartial>>& groups) {
  for (const Table& t : tables_) {
    if (t.aggregate >= groups.size()) continue;
    std::map<int64_t, std::map<std::string, GroupPartial>> by_window;
    for (const auto& [suffix, p] : groups[t.aggregate]) {
      std::string_view s = suffix;
      int64_t start = 0;
      if (!state::get_i64(s, start))
        return Status::corruption("bad window key in aggregate " + t.spec->name);
      by_window[start].emplace(suffix, p);
    }
    for (const auto& [start, window] : by_window)
      PS_RETURN_IF_ERROR(store_.put(
          table_prefix(t.spec->table) + std::to_string(start) + "/p" + std::to_string(task),
          state::encode_partials(window)));
  }
  return Status::ok();
}

Status SharedWindows::publish_frontier(int32_t task, size_t aggregate, int64_t frontier) {
  for (const Table& t : tables_) {
    if (t.aggregate != aggregate) continue;
    auto [it, fresh] = frontiers_.try_emplace({task, aggregate}, frontier);
    if (!fresh && it->second == frontier) return Status::ok();
    PS_RETURN_IF_ERROR(
        store_.put(table_prefix(t.spec->table) + kFrontier + "/p" + std::to_string(task),
                   std::to_string(frontier)));
    it->second = frontier;
  }
  return Status::ok();
}

Status SharedWindows::load(const state::StateStore::Reader& reader) {
  written_.clear();
  for (const Table& t : tables_) {
    PS_ASSIGN_OR_RETURN(auto raw, reader.get(written_key(t.spec->table)));
    if (!raw) continue;
    std::string_view v = *raw;
    int64_t start = 0;
    if (!state::get_i64(v, start))
      return Status::corruption("unreadable last window written of table " + t.spec->table);
    written_[t.spec->table] = start;
  }
  return Status::ok();
}

Status SharedWindows::task_moved(int32_t task, const state::StateStore::Reader& reader) {
  for (auto it = frontiers_.begin(); it != frontiers_.end();)
    it = it->first.first == task ? frontiers_.erase(it) : std::next(it);
  if (task != 0) return Status::ok();
  dirty_.clear();
  return load(reader);
}

Status SharedWindows::list(const Table& t, Listing& out) {
  const std::string prefix = table_prefix(t.spec->table);
  PS_ASSIGN_OR_RETURN(auto objects, store_.list(prefix));
  for (const auto& o : objects) {
    const std::string rest = o.key.substr(prefix.size());
    const size_t slash = rest.find('/');
    int64_t start = 0;
    if (slash == std::string::npos || !parse_i64(rest.substr(0, slash), start)) continue;
    const int32_t task = parse_task(rest.substr(slash + 1));
    if (task >= 0) out.partials[start][task] = o.key;
  }
  return Status::ok();
}

Status SharedWindows::merge_window(const Table& t, const std::vector<std::string>& keys,
                                   std::vector<core::Row>& rows) {
  std::map<std::string, GroupPartial> merged;
  for (const auto& key : keys) {
    PS_ASSIGN_OR_RETURN(std::string bytes, store_.get(key));
    if (!state::merge_encoded_partials(*t.spec, bytes, merged))
      return Status::corruption("unreadable window partial " + store_.describe() + "/" + key +
                                "; delete it and restart the member of its task to put it again");
  }
  return state::rows_of_partials(*t.spec, merged, rows);
}

Status SharedWindows::merge_ready(int32_t task_count,
                                  std::map<std::string, std::vector<core::Row>>& rows,
                                  std::vector<Waiting>& waiting) {
  for (const Table& t : tables_) {
    const std::string& table = t.spec->table;
    // Frontiers first: a member puts a task's partials before its frontier, so every
    // partial below a frontier read here is in the listing made after.
    std::vector<int64_t> frontiers(static_cast<size_t>(std::max(task_count, 0)), kMin);
    for (int32_t task = 0; task < task_count; ++task) {
      auto raw = store_.get(table_prefix(table) + kFrontier + "/p" + std::to_string(task));
      if (!raw && raw.error().code() == core::StatusCode::kNotFound) continue;
      if (!raw) return raw.error();
      if (!parse_i64(*raw, frontiers[static_cast<size_t>(task)]))
        return Status::corruption("unreadable window frontier of task " + std::to_string(task) +
                                  " in " + store_.describe() + "/" + table_prefix(table));
    }
    const int64_t ready_below =
        frontiers.empty() ? kMin : *std::min_element(frontiers.begin(), frontiers.end());
    Listing listing;
    PS_RETURN_IF_ERROR(list(t, listing));
    const std::optional<int64_t> before = last_written(table);
    std::vector<std::string> done;
    Waiting first{table, 0, {}, 0};
    for (const auto& [start, by_task] : listing.partials) {
      if (before && start <= *before) {  // written (committed): a leftover
        for (const auto& [task, key] : by_task) done.push_back(key);
        continue;
      }
      if (start < ready_below && first.windows == 0) {
        std::vector<std::string> keys;
        for (const auto& [task, key] : by_task) keys.push_back(key);
        PS_RETURN_IF_ERROR(merge_window(t, keys, rows[table]));
        written_[table] = start;
        continue;
      }
      if (first.windows++ == 0) {
        first.window_start = start;
        for (int32_t task = 0; task < task_count; ++task)
          if (frontiers[static_cast<size_t>(task)] <= start) first.tasks.push_back(task);
      }
    }
    if (first.windows > 0) waiting.push_back(std::move(first));
    if (last_written(table) != before) dirty_.insert(table);
    if (!done.empty()) PS_RETURN_IF_ERROR(store_.remove_many(done));
  }
  return Status::ok();
}

void SharedWindows::flush(state::StateStore::WriteBatch& batch) {
  for (const auto& table : dirty_) {
    std::string v;
    state::put_i64(v, written_[table]);
    batch.put(written_key(table), v);
  }
  dirty_.clear();
}

Status SharedWindows::remove_written() {
  for (const Table& t : tables_) {
    const std::optional<int64_t> written = last_written(t.spec->table);
    if (!written) continue;
    Listing listing;
    PS_RETURN_IF_ERROR(list(t, listing));
    std::vector<std::string> done;
    for (const auto& [start, by_task] : listing.partials) {
      if (start > *written) break;
      for (const auto& [task, key] : by_task) done.push_back(key);
    }
    if (!done.empty()) PS_RETURN_IF_ERROR(store_.remove_many(done));
  }
  return Status::ok();
}

}  // namespace pinstream::runtime
