#include "stream/task_checkpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "state/task_state.h"
#include "stream/core/crc32c.h"
#include "stream/tasks.h"

namespace pinstream::runtime {
using core::Result;
using core::Status;
using nlohmann::json;
namespace {

// "PSTASK1\n", u32 header length, header JSON, u64 key count, per key (u32 length, bytes,
// u32 length, bytes), u32 CRC-32C of everything before it; integers little-endian.
constexpr std::string_view kMagic = "PSTASK1\n";

void put_u32(std::string& out, uint64_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads from `in` front to back; `ok` turns false at the first read past the end.
struct Cursor {
  std::string_view in;
  bool ok = true;
  uint64_t fixed(int bytes) {
    if (in.size() < static_cast<size_t>(bytes)) return ok = false, 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(in[static_cast<size_t>(i)])) << (8 * i);
    in.remove_prefix(static_cast<size_t>(bytes));
    return v;
  }
  std::string_view bytes(uint64_t n) {
    if (in.size() < n) return ok = false, std::string_view();
    std::string_view out = in.substr(0, n);
    in.remove_prefix(n);
    return out;
  }
};

// The task's part of an epoch metadata: its positions and maxima (partitions of the task).
bool of_task(const std::string& partition_id, int32_t task) {
  return task_of_partition(partition_id).value_or(0) == task;
}

template <typename M>
M task_part(const M& all, int32_t task) {
  M out;
  for (const auto& [id, v] : all)
    if (of_task(id, task)) out.emplace(id, v);
  return out;
}

template <typename M>
void drop_task_part(M& all, int32_t task) {
  std::erase_if(all, [&](const auto& kv) { return of_task(kv.first, task); });
}

void add_counters(std::map<std::string, StreamCounters>& to,
                  const std::map<std::string, StreamCounters>& from, int64_t sign) {
  for (const auto& [name, c] : from) {
    StreamCounters& t = to[name];
    t.read += sign * c.read;
    t.clean += sign * c.clean;
    t.dead += sign * c.dead;
    t.duplicates += sign * c.duplicates;
    t.late += sign * c.late;
    t.future += sign * c.future;
  }
}

// The task's part of `meta` and its state keys leave `next`; `batch` deletes the keys.
void drop_task_meta(EpochMeta& next, int32_t task) {
  drop_task_part(next.positions, task);
  drop_task_part(next.event_time_max, task);
  drop_task_part(next.archive_next, task);
  if (auto it = next.task_counters.find(task); it != next.task_counters.end()) {
    add_counters(next.counters, it->second, -1);
    next.task_counters.erase(it);
  }
  next.task_epochs.erase(task);
}

Status remove_task(const state::StateStore& store, EpochMeta& next, int32_t task,
                   state::StateStore::WriteBatch& batch) {
  PS_RETURN_IF_ERROR(state::delete_task(store.live(), task, batch));
  drop_task_meta(next, task);
  return Status::ok();
}

Status write_with_meta(state::StateStore& store, state::StateStore::WriteBatch& batch,
                       EpochMeta& meta, EpochMeta next) {
  batch.put(kEpochMetaKey, next.to_json());
  PS_RETURN_IF_ERROR(store.write(batch, true));
  meta = std::move(next);
  return Status::ok();
}

}  // namespace

std::string task_checkpoint_key(int32_t task, int64_t epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(epoch));
  return "tasks/p" + std::to_string(task) + "/" + buf + ".task";
}

std::string encode_task_checkpoint(const TaskCheckpoint& ck) {
  EpochMeta part;  // the task's part of an epoch metadata, in its JSON form
  part.epoch = ck.epoch;
  part.generation = ck.generation;
  part.pipeline_id = ck.pipeline_id;
  part.positions = ck.positions;
  part.counters = ck.counters;
  part.event_time_max = ck.event_time_max;
  part.archive_next = ck.archive_next;
  part.tasks = TaskMode::kPartitions;
  const std::string header =
      json{{"format", TaskCheckpoint::kFormat}, {"task", ck.task}, {"meta", part.to_json()}}.dump();
  std::string out(kMagic);
  put_u32(out, header.size());
  out += header;
  put_u64(out, ck.state.size());
  for (const auto& [k, v] : ck.state) {
    put_u32(out, k.size());
    out += k;
    put_u32(out, v.size());
    out += v;
  }
  put_u32(out, core::crc32c(out));
  return out;
}

Result<TaskCheckpoint> decode_task_checkpoint(std::string_view bytes, const std::string& name,
                                              const std::string& pipeline_id) {
  auto damaged = [&](const std::string& why) {
    return Status::corruption("task checkpoint " + name + " is damaged (" + why +
                              "); remove it so that the task's previous checkpoint is used");
  };
  if (bytes.size() < kMagic.size() + 4 || !bytes.starts_with(kMagic))
    return damaged("not a task checkpoint of format 1");
  Cursor tail{bytes.substr(bytes.size() - 4)};
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (tail.fixed(4) != core::crc32c(body)) return damaged("checksum mismatch");
  Cursor in{body.substr(kMagic.size())};
  const std::string_view header = in.bytes(in.fixed(4));
  TaskCheckpoint ck;
  try {
    json h = json::parse(header);
    if (h.at("format").get<int>() != TaskCheckpoint::kFormat)
      return damaged("format " + h["format"].dump());
    ck.task = h.at("task").get<int32_t>();
    PS_ASSIGN_OR_RETURN(EpochMeta part, EpochMeta::from_json(h.at("meta").get<std::string>()));
    ck.pipeline_id = part.pipeline_id;
    ck.epoch = part.epoch;
    ck.generation = part.generation;
    ck.positions = std::move(part.positions);
    ck.counters = std::move(part.counters);
    ck.event_time_max = std::move(part.event_time_max);
    ck.archive_next = std::move(part.archive_next);
  } catch (const std::exception& e) {
    return damaged(std::string("header: ") + e.what());
  }
  const uint64_t count = in.fixed(8);
  for (uint64_t i = 0; in.ok && i < count; ++i) {
    std::string_view k = in.bytes(in.fixed(4));
    std::string_view v = in.bytes(in.fixed(4));
    if (in.ok) ck.state.emplace_back(k, v);
  }
  if (!in.ok || !in.in.empty()) return damaged("truncated or trailing bytes");
  if (name != task_checkpoint_key(ck.task, ck.epoch) && name.ends_with(".task") &&
      name.starts_with("tasks/"))
    return damaged("it holds task " + std::to_string(ck.task) + " epoch " +
                   std::to_string(ck.epoch));
  if (ck.pipeline_id != pipeline_id)
    return Status::invalid("task checkpoint " + name + " belongs to pipeline " + ck.pipeline_id +
                           ", not " + pipeline_id +
                           ": give each pipeline its own runtime.checkpoints");
  return ck;
}

Result<TaskCheckpoint> export_task(const state::StateStore::Reader& snapshot, int32_t task) {
  PS_ASSIGN_OR_RETURN(auto raw, snapshot.get(kEpochMetaKey));
  if (!raw) return Status::not_found("the state holds no committed epoch to export");
  PS_ASSIGN_OR_RETURN(EpochMeta meta, EpochMeta::from_json(*raw));
  if (!meta.group.empty())
    return Status::invalid("task " + std::to_string(task) + " cannot be exported at epoch " +
                           std::to_string(meta.epoch) +
                           ": its commit group (tables.commit_every) is still open");
  TaskCheckpoint ck;
  ck.pipeline_id = meta.pipeline_id;
  ck.task = task;
  ck.epoch = meta.epoch;
  ck.generation = meta.generation;
  ck.positions = task_part(meta.positions, task);
  ck.event_time_max = task_part(meta.event_time_max, task);
  ck.archive_next = task_part(meta.archive_next, task);
  if (auto it = meta.task_counters.find(task); it != meta.task_counters.end())
    ck.counters = it->second;
  PS_RETURN_IF_ERROR(state::scan_task(snapshot, task, [&](std::string_view k, std::string_view v) {
    ck.state.emplace_back(k, v);
    return true;
  }));
  return ck;
}

Status write_task_state(state::StateStore& store, const TaskCheckpoint& ck) {
  state::StateStore::WriteBatch batch;
  PS_RETURN_IF_ERROR(state::delete_task(store.live(), ck.task, batch));
  for (const auto& [k, v] : ck.state) batch.put(k, v);
  return store.write(batch, true);
}

void apply_task_checkpoint(EpochMeta& next, const TaskCheckpoint& ck, int64_t tables_epoch) {
  drop_task_part(next.positions, ck.task);
  drop_task_part(next.event_time_max, ck.task);
  drop_task_part(next.archive_next, ck.task);
  if (auto it = next.task_counters.find(ck.task); it != next.task_counters.end()) {
    add_counters(next.counters, it->second, -1);
    next.task_counters.erase(it);
  }
  next.pipeline_id = ck.pipeline_id;
  next.generation = ck.generation;
  next.tasks = TaskMode::kPartitions;
  for (const auto& [id, pos] : ck.positions) next.positions[id] = pos;
  for (const auto& [id, t] : ck.event_time_max) next.event_time_max[id] = t;
  for (const auto& [id, a] : ck.archive_next) next.archive_next[id] = a;
  if (!ck.counters.empty()) next.task_counters[ck.task] = ck.counters;
  add_counters(next.counters, ck.counters, 1);
  // The task's txn in the tables: what this state now owns the task at (task_handoff.h).
  next.task_epochs.erase(ck.task);
  if (tables_epoch > 0) next.task_epochs[ck.task] = tables_epoch;
  // The epoch jump: this process's next commit (next.epoch + 1) is newer than any txn the
  // tables hold for the task.
  next.epoch = std::max({next.epoch, ck.epoch, tables_epoch});
}

Status import_task(state::StateStore& store, EpochMeta& meta, const TaskCheckpoint& ck,
                   int64_t tables_epoch) {
  const std::string what = "task checkpoint of task " + std::to_string(ck.task) + " at epoch " +
                           std::to_string(ck.epoch);
  const bool fresh = meta.epoch == 0 && meta.positions.empty();
  if (ck.pipeline_id != meta.pipeline_id && !(fresh && meta.pipeline_id.empty()))
    return Status::invalid(what + " belongs to pipeline " + ck.pipeline_id + ", not " +
                           meta.pipeline_id);
  if (ck.generation != meta.generation && !fresh)
    return Status::invalid(what + " is of generation " + std::to_string(ck.generation) +
                           " but this state is at generation " + std::to_string(meta.generation) +
                           ": replay every member from one checkpoint generation");
  if (!meta.group.empty())
    return Status::invalid("cannot import the " + what + " while a commit group is open");
  EpochMeta next = meta;
  state::StateStore::WriteBatch batch;
  PS_RETURN_IF_ERROR(state::delete_task(store.live(), ck.task, batch));
  for (const auto& [k, v] : ck.state) batch.put(k, v);
  apply_task_checkpoint(next, ck, tables_epoch);
  // Pending adds were committed under the old epoch: never redone under the new one.
  next.pending.clear();
  return write_with_meta(store, batch, meta, std::move(next));
}

Status release_task(state::StateStore& store, EpochMeta& meta, int32_t task) {
  EpochMeta next = meta;
  state::StateStore::WriteBatch batch;
  PS_RETURN_IF_ERROR(remove_task(store, next, task, batch));
  next.pending.clear();  // landed: a restart must not redo them under the remaining txns
  // What is written is the stored metadata without the task, not `meta`: a running engine's
  // metadata already counts the records of the epoch it has not committed yet, and a
  // restart from this write would count them again when it reads them again.
  PS_ASSIGN_OR_RETURN(auto raw, store.live().get(kEpochMetaKey));
  if (!raw) return write_with_meta(store, batch, meta, std::move(next));
  PS_ASSIGN_OR_RETURN(EpochMeta durable, EpochMeta::from_json(*raw));
  drop_task_meta(durable, task);
  durable.pending.clear();
  batch.put(kEpochMetaKey, durable.to_json());
  PS_RETURN_IF_ERROR(store.write(batch, true));
  meta = std::move(next);
  return Status::ok();
}

TaskCheckpoints::TaskCheckpoints(connectors::objstore::ObjectStore& objects,
                                 std::string pipeline_id, int keep)
    : objects_(objects), pipeline_id_(std::move(pipeline_id)), keep_(std::max(1, keep)) {}

Result<std::vector<int64_t>> TaskCheckpoints::epochs(int32_t task) {
  const std::string prefix = "tasks/p" + std::to_string(task) + "/";
  PS_ASSIGN_OR_RETURN(auto listed, objects_.list(prefix));
  std::vector<int64_t> out;
  for (const auto& o : listed) {
    std::string_view rest = std::string_view(o.key).substr(prefix.size());
    if (!rest.ends_with(".task")) continue;
    rest.remove_suffix(5);
    if (rest.size() < 8 || rest.find_first_not_of("0123456789") != std::string_view::npos) continue;
    out.push_back(std::stoll(std::string(rest)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<int32_t>> TaskCheckpoints::tasks() {
  PS_ASSIGN_OR_RETURN(auto listed, objects_.list("tasks/p"));
  std::set<int32_t> out;
  for (const auto& o : listed) {
    std::string_view rest = std::string_view(o.key).substr(7);
    const size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash > 9 ||
        rest.substr(0, slash).find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    out.insert(static_cast<int32_t>(std::stol(std::string(rest.substr(0, slash)))));
  }
  return std::vector<int32_t>(out.begin(), out.end());
}

Status TaskCheckpoints::publish(const TaskCheckpoint& ck) {
  const std::string key = task_checkpoint_key(ck.task, ck.epoch);
  Status st = objects_.put_if_absent(key, encode_task_checkpoint(ck));
  if (st.code() == core::StatusCode::kAlreadyExists)
    spdlog::info("Task checkpoint already written. key={}", key);
  else if (!st.is_ok())
    return st;
  PS_ASSIGN_OR_RETURN(auto all, epochs(ck.task));
  std::vector<std::string> old;
  for (size_t i = 0; i + static_cast<size_t>(keep_) < all.size(); ++i)
    old.push_back(task_checkpoint_key(ck.task, all[i]));
  return old.empty() ? Status::ok() : objects_.remove_many(old);
}

Result<std::optional<TaskCheckpoint>> TaskCheckpoints::newest(int32_t task) {
  PS_ASSIGN_OR_RETURN(auto all, epochs(task));
  if (all.empty()) return std::optional<TaskCheckpoint>();
  const std::string key = task_checkpoint_key(task, all.back());
  PS_ASSIGN_OR_RETURN(std::string bytes, objects_.get(key));
  PS_ASSIGN_OR_RETURN(TaskCheckpoint ck, decode_task_checkpoint(bytes, key, pipeline_id_));
  return std::optional<TaskCheckpoint>(std::move(ck));
}

}  // namespace pinstream::runtime
