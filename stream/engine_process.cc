// Engine: what happens to each record between the source and the epoch commit.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "stream/engine_internal.h"
#include "stream/redrive.h"
#include "transforms/dead_letter.h"

namespace pinstream::runtime {
using core::Field;
using core::Status;
using core::Type;

core::Schema dead_letter_schema() {
  return core::Schema({{"stream", Type::kString, false},
                       {"source", Type::kString, false},
                       {"position", Type::kString, false},
                       {"raw", Type::kString, false},
                       {"raw_encoding", Type::kString, false},
                       {"reason", Type::kString, false},
                       {"time", Type::kTimestamp, false}});
}

core::Schema late_record_schema() {
  return core::Schema({{"stream", Type::kString, false},
                       {"source", Type::kString, false},
                       {"position", Type::kString, false},
                       {"key", Type::kLong, false},
                       {"event_time", Type::kTimestamp, false},
                       {"watermark", Type::kTimestamp, false},
                       {"time", Type::kTimestamp, false}});
}

// Ingest thread. Owns the source, the cleaners, the dedup state and its tables' writers
// (dead letters, the widest stream's table); hands them over at a seal and goes on.
void Engine::ingest(IngestItem& item, bool seal) {
  std::optional<core::Positions> committed = commit_thread_->take_committed_positions();
  if (committed) {
    Status st = source_->on_epoch_committed(*committed);
    if (!st.is_ok())
      spdlog::warn("Source could not record committed positions. error={}", st.to_string());
  }
  if (seal) {
    ingest_seal(item);
    return;
  }
  // --until-idle: after a short poll, ask whether the source is drained before polling
  // again (an empty poll waits for its timeout, 100 ms at the end of every run).
  // A drained source may still hold a partial record (a last line without its newline):
  // at the end of the run it is handed out, cut as truncated, before the run stops.
  if (opts_.until_idle && ingest_short_poll_ && source_->drained() && !source_->release_partial()) {
    item.idle = true;
    return;
  }
  auto n = source_->poll(item.batch, poll_timeout(), static_cast<size_t>(cfg_.runtime.poll_batch));
  ingest_short_poll_ = n && *n < static_cast<size_t>(cfg_.runtime.poll_batch);
  if (!n) {
    if (!n.error().retryable()) {
      item.error = n.error();
      return;
    }
    spdlog::warn("Source poll failed; retrying. error={}", n.error().to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return;
  }
  const auto& parts = source_->partitions();
  for (; ingest_parts_seen_ < parts.size(); ++ingest_parts_seen_)
    item.new_partitions.push_back(parts[ingest_parts_seen_]);
  if (item.batch.size == 0) return;  // a short poll: the drained check above runs next time
  Status st = ingest_batch(item);
  if (!st.is_ok()) item.error = st;
}

// The ingest thread's side of an epoch: its tables' writers, positions, lag, dedup claims.
void Engine::ingest_seal(IngestItem& item) {
  auto in = std::make_unique<IngestSeal>();
  for (auto& [name, t] : tables_) {
    if (!t->ingest_side) continue;
    auto w = t->take_writer();
    if (!w) {
      item.error = w.error();
      return;
    }
    if (*w) in->writers[name] = std::move(*w);
  }
  in->positions = source_->positions();
  const auto& parts = source_->partitions();
  const bool by_max = source_->lag_unit() == connectors::LagUnit::kMillis;  // the worst shard
  for (const auto& [idx, lag] : source_->lag()) {
    if (idx >= parts.size() || parts[idx].stream >= plan_->streams.size()) continue;
    int64_t& at = in->lag[plan_->streams[parts[idx].stream].cfg->name];
    at = by_max ? std::max(at, lag) : at + lag;
  }
  dedups_->flush(in->batch);
  in->parked = dedups_->spilled();
  item.seal = std::move(in);
}

Status Engine::ingest_batch(IngestItem& item) {
  const size_t size = item.batch.size;
  if (item.rows.size() < size) item.rows.resize(size);
  item.outcome.resize(size);
  item.keys.resize(size);
  stage_from(true, item);
  for (size_t i = 0; i < size; ++i)
    PS_RETURN_IF_ERROR(
        ingest_record(item.batch.records[i], item.rows[i], item.outcome[i], item.keys[i]));
  return flush_staged(true);
}

bool Engine::table_encoder_wanted() {
  const char* env = std::getenv("PINSTREAM_TABLE_ENCODER");
  return !env || std::strcmp(env, "0") != 0;
}

// The streams' tables (their staged rows live in the ingest items) are encoded on the
// encoder thread; an item is reused once its rows are encoded.
void Engine::start_encoder(IngestThread& ingest) {
  encoder_ = std::make_unique<TableEncoder>();
  for (const auto& s : plan_->streams)
    if (!s.cfg->table.empty()) table(s.cfg->table)->encoder = encoder_.get();
  ingest.set_reuse_wait(
      [e = encoder_.get()](const IngestItem& item) { (void)e->wait(item.encoding); });
}

void Engine::stage_from(bool ingest_side, IngestItem& item) {
  for (auto& [name, t] : tables_)
    if (t->ingest_side == ingest_side && t->encoder) t->owner = &item;
}

Status Engine::flush_staged(bool ingest_side) {
  for (auto& [name, t] : tables_)
    if (t->ingest_side == ingest_side) PS_RETURN_IF_ERROR(t->flush());
  return Status::ok();
}

Status Engine::ingest_record(const core::RawRecord& rec, core::Row& row, Outcome& outcome,
                             int64_t& key) {
  const core::PartitionRef& part = source_->partitions()[rec.partition];
  const StreamPlan& s = plan_->streams[part.stream];
  if (rec.cut != core::RecordCut::kWhole) {
    outcome = Outcome::kDead;
    return dead_letter(
        s, rec, transforms::cut_reason(rec, static_cast<size_t>(cfg_.runtime.max_record_bytes)));
  }
  Status st = s.cleaner->clean(rec.bytes, row);
  if (!st.is_ok()) {
    outcome = Outcome::kDead;
    return dead_letter(s, rec, st.message());
  }
  key = row[static_cast<size_t>(s.key_index)].i;
  if (rec.partition >= dedup_by_part_.size()) route_ingest_partitions();
  PS_ASSIGN_OR_RETURN(bool first, dedup_by_part_[rec.partition]->claim(part.stream, key));
  outcome = first ? Outcome::kClean : Outcome::kDuplicate;
  if (first && !s.cfg->table.empty() && s.table_on_ingest)
    PS_RETURN_IF_ERROR(table(s.cfg->table)->stage(row));
  return Status::ok();
}

Status Engine::dead_letter(const StreamPlan& s, const core::RawRecord& rec,
                           const std::string& reason) {
  TableRt* t = table(cfg_.tables.dead_letters);
  core::Row row(7);
  row[0].set_string(s.cfg->name);
  row[1].set_string(source_->partitions()[rec.partition].id);
  row[2].set_string(rec.position);
  // Bounded whatever the record: one over the size limit keeps a prefix, its size and hash.
  transforms::DeadLetter d =
      transforms::make_dead_letter(rec, reason, static_cast<size_t>(cfg_.runtime.max_record_bytes));
  row[3].set_string(d.raw);
  row[4].set_string(d.encoding);
  row[5].set_string(d.reason);
  row[6].set_timestamp(opts_.clock->now_micros());
  // Not timed into the encoding CPU: one row's encoding costs less than the two system calls
  // that read the thread's CPU time around it.
  return t->append(row);
}

// Engine thread.
Status Engine::process(IngestItem& item) {
  item_now_ = opts_.clock->now_micros();
  PS_RETURN_IF_ERROR(absorb_imports());
  for (auto& p : item.new_partitions) parts_.push_back(std::move(p));
  if (task_by_part_.size() < parts_.size()) PS_RETURN_IF_ERROR(route_partitions());
  stage_from(false, item);
  for (size_t i = 0; i < item.batch.size; ++i) {
    const core::RawRecord& rec = item.batch.records[i];
    if (cfg_.tasks == TaskMode::kSingle) {
      PS_RETURN_IF_ERROR(process_record(rec, item.rows[i], item.outcome[i], item.keys[i]));
      continue;
    }
    // Per task: what the record added to its stream's counters.
    const core::PartitionRef& part = parts_[rec.partition];
    const std::string& stream = plan_->streams[part.stream].cfg->name;
    const StreamCounters before = meta_.counters[stream];
    PS_RETURN_IF_ERROR(process_record(rec, item.rows[i], item.outcome[i], item.keys[i]));
    const StreamCounters& after = meta_.counters[stream];
    StreamCounters& t = meta_.task_counters[task_of_partition(part.id).value_or(0)][stream];
    t.read += after.read - before.read;
    t.clean += after.clean - before.clean;
    t.dead += after.dead - before.dead;
    t.duplicates += after.duplicates - before.duplicates;
    t.late += after.late - before.late;
    t.future += after.future - before.future;
  }
  PS_RETURN_IF_ERROR(flush_staged(false));
  late_count_ = 0;
  epoch_records_ += static_cast<int64_t>(item.batch.size);
  return Status::ok();
}

Status Engine::process_record(const core::RawRecord& rec, core::Row& row, Outcome outcome,
                              int64_t key) {
  const core::PartitionRef& part = parts_[rec.partition];
  const StreamPlan& s = plan_->streams[part.stream];
  StreamCounters& counters = meta_.counters[s.cfg->name];
  if (is_redrive_partition(part.id)) {  // a dead letter read again: counted anew below
    counters.read--;
    counters.dead--;
  }
  counters.read++;
  if (archive_ && archive_->enabled(part.stream))
    archive_->add(part, rec.partition, rec, meta_.archive_next);
  if (outcome == Outcome::kDead) {
    counters.dead++;
    return Status::ok();
  }
  if (outcome == Outcome::kDuplicate) {
    counters.duplicates++;
    return Status::ok();
  }
  counters.clean++;
  if (!s.table_on_ingest && !s.cfg->table.empty())
    PS_RETURN_IF_ERROR(table(s.cfg->table)->stage(row));

  std::optional<int64_t> hold;  // a not-late event time: its windows wait for the post
  PS_ASSIGN_OR_RETURN(bool late, lateness(s, part, rec, row, key, counters, hold));
  return join_record(task_by_part_[rec.partition], s, row, key, late, hold);
}

// Lateness is decided per source partition (SPEC section 4): late when older than the
// greatest event time seen before it in the partition minus the allowed lateness. The one
// exception depends on the processing clock: an event time more than max_future ahead of
// it is late (`future`) and does not move the watermark.
core::Result<bool> Engine::lateness(const StreamPlan& s, const core::PartitionRef& part,
                                    const core::RawRecord& rec, const core::Row& row, int64_t key,
                                    StreamCounters& counters, std::optional<int64_t>& hold) {
  if (s.event_time_index < 0) return false;
  const core::Value& ts = row[static_cast<size_t>(s.event_time_index)];
  if (ts.is_null()) return false;
  bool late = false;
  const int64_t now = item_now_;
  if (ts.i > now + plan_->max_future_micros) {
    late = true;
    counters.future++;
    PS_RETURN_IF_ERROR(
        late_record(s, part, rec, key, ts.i, now + plan_->max_future_micros, counters));
  } else {
    auto [it, fresh] = meta_.event_time_max.try_emplace(part.id, ts.i);
    if (!fresh) {
      int64_t mark = it->second - plan_->allowed_lateness_micros;
      if (ts.i < mark) {
        late = true;
        PS_RETURN_IF_ERROR(late_record(s, part, rec, key, ts.i, mark, counters));
      }
      if (ts.i > it->second) it->second = ts.i;
    }
  }
  if (!late) hold = ts.i;
  return late;
}

Status Engine::join_record(const TaskRt& task, const StreamPlan& s, const core::Row& row,
                           int64_t key, bool late, std::optional<int64_t> hold) {
  if (!task.join || s.join_slot < 0) return Status::ok();
  int slot = s.join_slot;
  // A copy, not a move: the row's buffers belong to the ingest thread's item, and memory
  // freed on another thread than the one that allocated it costs glibc arena locks
  // (bench/README.md, "Rows copied into the join"). Only the columns the derive steps and the
  // aggregates read are copied, into a row the join recycles.
  const state::PartFlags flags = late ? state::PartFlags::kLate : state::PartFlags::kNone;
  state::PartFlags joined_flags = state::PartFlags::kNone;
  PS_ASSIGN_OR_RETURN(bool complete,
                      task.join->add_copy(static_cast<uint32_t>(slot), key, row, s.join_columns,
                                          flags, item_now_, joined_, joined_flags, hold));
  if (!complete) return Status::ok();
  PS_RETURN_IF_ERROR(plan_->derive->apply(joined_));
  const bool any_late = state::has(joined_flags, state::PartFlags::kLate);
  if (task.aggregates) PS_RETURN_IF_ERROR(task.aggregates->update(joined_, any_late));
  return Status::ok();
}

// A late_records row; `watermark` is the bound the event time missed: the partition's
// watermark, or for a `future` record the processing clock + max_future (so such a row is
// told apart by event_time > watermark).
Status Engine::late_record(const StreamPlan& s, const core::PartitionRef& part,
                           const core::RawRecord& rec, int64_t key, int64_t event_time,
                           int64_t watermark, StreamCounters& counters) {
  counters.late++;
  if (late_rows_.empty()) late_rows_.assign(TableRt::kStageRows, core::Row(7));
  core::Row& lr = late_rows_[late_count_++];
  lr[0].set_string(s.cfg->name);
  lr[1].set_string(part.id);
  lr[2].set_string(rec.position);
  lr[3].set_long(key);
  lr[4].set_timestamp(event_time);
  lr[5].set_timestamp(watermark);
  lr[6].set_timestamp(opts_.clock->now_micros());
  TableRt* lt = table(cfg_.tables.late_records);
  PS_RETURN_IF_ERROR(lt->stage(lr));
  if (lt->staged.empty()) late_count_ = 0;  // appended: the rows can be refilled
  return Status::ok();
}

}  // namespace pinstream::runtime
