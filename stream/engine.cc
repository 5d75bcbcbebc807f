// Engine: building the pipeline's components, recovery and the run loop.
// Per-record processing is in engine_process.cc, the epoch commit in engine_commit.cc.
#include "stream/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "connectors/delta/log_store.h"
#include "connectors/registry.h"
#include "stream/checkpoints.h"
#include "stream/engine_internal.h"
#include "stream/table_open.h"
#include "stream/tables_owner.h"
#include "stream/task_guard.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Result;
using core::Status;

Engine::Engine(const PipelineConfig& cfg, EngineOptions opts, LockFile lock)
    : cfg_(cfg), opts_(opts), lock_(std::move(lock)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(const PipelineConfig& cfg, EngineOptions opts) {
  PS_ASSIGN_OR_RETURN(LockFile lock, LockFile::acquire(cfg.runtime.data_dir));
  PS_ASSIGN_OR_RETURN(auto tables, open_tables_root(cfg.tables.root));
  PS_RETURN_IF_ERROR(claim_tables_root(*tables, cfg.tables.root, cfg.runtime.data_dir,
                                       shares_tasks(cfg) ? cfg.id : ""));
  std::unique_ptr<Engine> e(new Engine(cfg, opts, std::move(lock)));
  e->tables_store_ = std::move(tables);
  if (connectors::objstore::is_remote_url(cfg.tables.root)) {
    // Staged data files of a crashed run: uploaded or not, none is referenced by its path here.
    std::error_code ec;
    fs::remove_all(e->staging_dir(), ec);
  }
  e->started_at_ = opts.clock->now_micros();
  PS_ASSIGN_OR_RETURN(std::string restore_from, e->open_checkpoints());
  if (!restore_from.empty()) PS_RETURN_IF_ERROR(e->restore_checkpoint(restore_from));
  PS_RETURN_IF_ERROR(e->build());
  PS_RETURN_IF_ERROR(e->recover());
  if (cfg.tables.upkeep.auto_compact || cfg.tables.upkeep.vacuum_interval_ms > 0) {
    std::vector<std::string> names;
    for (const auto& [name, t] : e->tables_) names.push_back(name);
    e->compactor_ = std::make_unique<Compactor>(e->tables_store_, cfg.tables.root, std::move(names),
                                                cfg.tables.upkeep, daemon_hooks(e->cfg_));
  }
  return e;
}

Status Engine::build() {
  state::StateStore::Options so;
  auto store = state::StateStore::open(cfg_.runtime.state_dir(), so);
  if (!store) {
    if (store.error().code() != core::StatusCode::kCorruption) return store.error();
    auto cps = checkpoint_list();
    return Status::corruption(store.error().message() +
                              (cps.empty()
                                   ? std::string("; no checkpoint is kept to repair it")
                                   : "; repair with: pinstream replay --config " + cfg_.file +
                                         " --from-checkpoint " + cps.back().id));
  }
  store_ = std::move(*store);
  PS_ASSIGN_OR_RETURN(plan_, Plan::build(cfg_, store_.get()));
  PS_RETURN_IF_ERROR(open_tables());
  wire_committer();
  dedups_ = std::make_unique<state::TaskDedups>(*store_, state::Dedup::Options());
  std::vector<RawArchive::Target> archived;
  bool any_archive = false;
  for (const auto& s : cfg_.streams) {
    archived.push_back({s.archive_root, s.archive_topic});
    any_archive = any_archive || !s.archive_root.empty();
  }
  if (any_archive) {
    PS_ASSIGN_OR_RETURN(archive_, RawArchive::open(std::move(archived)));
  }
  return open_source();
}

// The tables the plan writes, opened (concurrently in an object store), each marked with the
// thread that writes it.
Status Engine::open_tables() {
  // The cleaned streams' tables and the dead letters are written on the ingest thread.
  std::vector<TableSpec> specs;
  for (const auto& s : plan_->streams)
    if (!s.cfg->table.empty()) specs.push_back({s.cfg->table, s.cleaner->output_schema(), true});
  specs.push_back({cfg_.tables.dead_letters, dead_letter_schema(), true});
  if (plan_->event_time_stream >= 0)
    specs.push_back({cfg_.tables.late_records, late_record_schema(), false});
  if (plan_->join) specs.push_back({cfg_.tables.join_expired, join_expired_schema(), false});
  if (plan_->aggregates) {
    for (const auto& [name, schema] : plan_->aggregates->window_tables())
      specs.push_back({name, schema, false});
  }
  if (connectors::objstore::is_remote_url(cfg_.tables.root)) {
    // One table after another, their opens' round trips (`_last_checkpoint`, the log's
    // commits, commit 0 of a new table) add up at start: they run concurrently. The first
    // failure in table order is returned, so the message does not depend on timing.
    auto todo = first_of_each(specs);
    auto opened = open_concurrently(todo, tables_store_, cfg_.tables.root, staging_dir());
    for (size_t i = 0; i < todo.size(); ++i) {
      if (!opened[i])
        return with_table_repair_hint(opened[i].error(), cfg_.tables.root + "/" + todo[i].name);
      auto t = std::make_unique<TableRt>();
      t->name = todo[i].name;
      t->encode_cpu_us = &encode_cpu_us_;
      t->table = std::move(*opened[i]);
      tables_[t->name] = std::move(t);
    }
  } else {  // a local open is a few file reads
    for (const auto& spec : specs) PS_RETURN_IF_ERROR(open_table(spec.name, spec.schema));
  }
  for (const auto& spec : specs)
    if (spec.ingest_side) table(spec.name)->ingest_side = true;
  for (const auto& s : plan_->streams)
    if (!s.cfg->table.empty() && !s.table_on_ingest) table(s.cfg->table)->ingest_side = false;
  return Status::ok();
}

// The source of cfg_.source_kind (or the one the options give), told about the pipeline's
// membership and bounded when the run is.
Status Engine::open_source() {
  connectors::Registry registry;
  connectors::register_builtin(registry);
  connectors::SourceFactory factory = registry.source(cfg_.source_kind);
  if (!factory)
    return Status::invalid(cfg_.file + ": source kind '" + cfg_.source_kind +
                           "' is not available in this build");
  std::vector<connectors::StreamBinding> bindings;
  for (size_t i = 0; i < cfg_.streams.size(); ++i)
    bindings.push_back({static_cast<uint32_t>(i), cfg_.streams[i].name, cfg_.streams[i].source,
                        static_cast<size_t>(cfg_.runtime.max_record_bytes)});
  if (opts_.source) {
    source_ = opts_.source();
  } else {
    PS_ASSIGN_OR_RETURN(source_, factory(bindings, cfg_.source_settings));
  }
  if (!source_) return Status::internal("the source given to the engine is null");
  std::vector<std::string> table_names;
  for (const auto& [name, t] : tables_) table_names.push_back(name);
  PS_RETURN_IF_ERROR(source_->set_membership(membership(std::move(table_names))));
  if (opts_.wrap_source) source_ = opts_.wrap_source(std::move(source_));
  source_->set_bounded(opts_.until_idle);
  return Status::ok();
}

Status Engine::open_table(const std::string& name, const core::Schema& schema) {
  if (tables_.count(name)) return Status::ok();
  auto t = std::make_unique<TableRt>();
  t->name = name;
  t->encode_cpu_us = &encode_cpu_us_;
  auto opened = open_delta(tables_store_, cfg_.tables.root, staging_dir(), {name, schema, false});
  if (!opened) return with_table_repair_hint(opened.error(), cfg_.tables.root + "/" + name);
  t->table = std::move(*opened);
  tables_[name] = std::move(t);
  return Status::ok();
}

std::string Engine::staging_dir() const {
  return (fs::path(cfg_.runtime.data_dir) / "staging").string();
}

Engine::TableRt* Engine::table(const std::string& name) {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : it->second.get();
}

Status Engine::recover() {
  PS_ASSIGN_OR_RETURN(auto raw, store_->live().get(kEpochMetaKey));
  if (raw) {
    PS_ASSIGN_OR_RETURN(meta_, EpochMeta::from_json(*raw));
    if (meta_.pipeline_id != cfg_.id)
      return Status::invalid("data directory " + cfg_.runtime.data_dir + " belongs to pipeline '" +
                             meta_.pipeline_id + "', not '" + cfg_.id + "'");
  } else {
    meta_.pipeline_id = cfg_.id;
  }
  if (replay_) {
    PS_RETURN_IF_ERROR(check_tables_restorable());
    PS_RETURN_IF_ERROR(finish_replay_restore());
  } else {
    // Before anything is redone or read: the tables must not be ahead of the state.
    PS_RETURN_IF_ERROR(check_tables_agree(!raw.has_value()));
  }
  PS_RETURN_IF_ERROR(check_task_mode());
  if (!replay_ && raw) {
    // Crash recovery: the last epoch's Delta commits may not have happened; redo them
    // (skipped per table when its txn already holds the epoch).
    PS_RETURN_IF_ERROR(committer_->redo(meta_));
    spdlog::info("Resuming after committed epoch. epoch={} generation={}", meta_.epoch,
                 meta_.generation);
  }
  for (const auto& s : plan_->streams) meta_.counters.try_emplace(s.cfg->name);
  meta_.pending.clear();
  meta_.tasks = cfg_.tasks;  // redo() above used the mode the last epoch was sealed with
  if (cfg_.tasks == TaskMode::kSingle) meta_.task_counters.clear();
  // An open group of `tables.commit_every` goes on (committed with the next due epoch).
  for (const auto& [name, adds] : meta_.group)
    if (!adds.empty()) group_tables_.insert(name);
  committer_->resume_group(std::move(meta_.group));
  meta_.group.clear();
  // Shared tasks: this process takes back only what the group assigns it.
  if (!replay_ && raw) PS_RETURN_IF_ERROR(hand_over_tasks("start"));
  PS_RETURN_IF_ERROR(source_->open(meta_.positions));
  if (opts_.available_now) PS_RETURN_IF_ERROR(fix_end_positions());
  parts_ = source_->partitions();
  PS_RETURN_IF_ERROR(open_tasks());
  PS_RETURN_IF_ERROR(open_shared_windows());
  publish(meta_, {});
  // A fresh data directory keeps checkpoint 0 (empty state, empty tables), so that
  // `replay --from-checkpoint 0` can rebuild everything under a changed configuration.
  if (!raw && !replay_) PS_RETURN_IF_ERROR(committer_->checkpoint(meta_));
  return Status::ok();
}

std::chrono::milliseconds Engine::poll_timeout() const {
  return std::chrono::milliseconds(std::min<int64_t>(100, cfg_.runtime.epoch_interval_ms));
}

// Three threads share the work: the ingest thread polls, cleans, dedups and encodes the
// cleaned tables' rows; this thread joins, aggregates and decides when an epoch ends; the
// epoch's commit (Parquet files, state write, Delta commits) runs on a third while the
// other two go on. An epoch ends with a seal item from the ingest thread (request_seal):
// every item before it belongs to the epoch, every item after it to the next.
Status Engine::run() {
  parts_ = source_->partitions();
  ingest_parts_seen_ = parts_.size();
  // A few items in flight (up to 16k records) smooth out the two threads' pace.
  const int64_t in_flight = std::min<int64_t>(16384, cfg_.runtime.epoch_max_records);
  const size_t depth =
      static_cast<size_t>(std::clamp<int64_t>(in_flight / cfg_.runtime.poll_batch, 2, 64));
  IngestThread ingest([this](IngestItem& item, bool seal) { this->ingest(item, seal); }, depth);
  if (table_encoder_wanted()) start_encoder(ingest);
  ingest.start();
  // On every way out, before the ingest thread and its items go: no job runs any more.
  struct EncoderStop {
    TableEncoder* e;
    ~EncoderStop() {
      if (e) e->cancel();
    }
  } encoder_stop{encoder_.get()};
  // On every way out, the commit in flight ends before the ingest thread stops.
  struct CommitWait {
    CommitThread& t;
    ~CommitWait() { t.settle(); }
  } commit_wait{*commit_thread_};
  epoch_started_ = opts_.clock->steady_micros();
  RunLoop loop;
  loop.last_log = epoch_started_;
  bool stopped_handed_off = false;
  while (!loop.done) {
    if (!loop.last && opts_.stop && opts_.stop->load()) {
      // Every record read is committed and every task published (a rebalance's hand-off);
      // some of the tasks are already another member's: nothing more is committed.
      if ((stopped_handed_off = source_->rebalancing())) break;
      ingest.request_seal(true);
      loop.seal_requested = loop.last = true;
    }
    // A rebalance waits for this member's tasks (Membership::hand_off). At a stop, the last
    // seal's commit and hand_over_tasks do it.
    if (!loop.seal_requested && !loop.last && hand_off_wanted_.exchange(false)) {
      ingest.request_hand_off_seal();
      loop.seal_requested = true;
    }
    if (IngestItem* item = ingest.next(poll_timeout())) {
      PS_RETURN_IF_ERROR(take_item(ingest, *item, loop));
      if (loop.done) break;
    }
    const int64_t now = opts_.clock->steady_micros();
    maybe_request_seal(ingest, loop, now);
    log_progress(loop, now);
  }
  if (stopped_handed_off) {
    spdlog::info("Stopped during a rebalance, after its hand-off. epoch={}", meta_.epoch);
    return Status::ok();
  }
  PS_RETURN_IF_ERROR(hand_over_tasks("stop"));
  const int64_t cpu = core::process_cpu_micros(), encode = encode_cpu_us_.load();
  size_t waiting = 0, cold = 0;
  uint64_t reloads = 0;
  for (const auto& [task, join] : joins_)
    waiting += join->waiting(), cold += join->cold(), reloads += join->reloads();
  spdlog::info(
      "Stopped after a final commit. epoch={} cpu_ms={} table_encode_cpu_ms={} "
      "table_encode_share={:.1f}% join_waiting={} join_cold={} join_read_back={}",
      meta_.epoch, cpu / 1000, encode / 1000,
      100.0 * static_cast<double>(encode) / static_cast<double>(std::max<int64_t>(1, cpu)), waiting,
      cold, reloads);
  if (encoder_) {
    const TableEncoder::Stats e = encoder_->stats();
    spdlog::debug("Table encoder. jobs={} waits={} waited_ms={}", e.jobs, e.waits,
                  e.waited_us / 1000);
  }
  return Status::ok();
}

// One item from the ingest thread: a seal ends the epoch, anything else is processed.
Status Engine::take_item(IngestThread& ingest, IngestItem& item, RunLoop& loop) {
  Status st = item.error;
  bool sealed = false;
  bool final_seal = false;
  if (st.is_ok() && item.seal) {
    // Only the seal asked for with the stop is the last one: a seal asked for before
    // the stop may come first, with the ingest thread still polling after it.
    final_seal = item.seal->last;
    st = seal_and_commit(ingest, *item.seal, final_seal);
    sealed = true;
  } else if (st.is_ok()) {
    st = process(item);
    if (item.idle && !loop.last) {
      ingest.request_seal(true);
      loop.seal_requested = loop.last = true;
    }
  }
  ingest.release(&item);
  PS_RETURN_IF_ERROR(st);
  if (sealed && final_seal) {
    loop.done = true;
  } else if (sealed) {
    loop.seal_requested = loop.last;  // the last seal is still to come
    epoch_started_ = opts_.clock->steady_micros();
  }
  return Status::ok();
}

// An epoch ends after epoch_max_records or epoch_interval_ms, never empty.
void Engine::maybe_request_seal(IngestThread& ingest, RunLoop& loop, int64_t now) {
  if (loop.seal_requested || source_->rebalancing()) return;
  if (epoch_records_ < cfg_.runtime.epoch_max_records &&
      now - epoch_started_ < cfg_.runtime.epoch_interval_ms * 1000)
    return;
  if (epoch_records_ > 0) {
    ingest.request_seal(false);
    loop.seal_requested = true;
  } else if (shared_windows_ && now - shared_probe_at_ >= cfg_.runtime.epoch_interval_ms * 1000) {
    // No records: a member of a group still expires join entries (their windows' partials
    // are due to the writer), and the writer looks for windows the others completed.
    shared_probe_at_ = now;
    ingest.request_seal(false);
    loop.seal_requested = true;
  } else {
    epoch_started_ = now;  // nothing new: no empty epochs
  }
}

void Engine::log_progress(RunLoop& loop, int64_t now) {
  if (now - loop.last_log < 5'000'000) return;
  int64_t total = 0, dead = 0;
  for (const auto& [name, c] : meta_.counters) {
    total += c.read;
    dead += c.dead;
  }
  spdlog::info("Progress. records_per_s={} epoch={} records={} dead_letters={}",
               (total - loop.last_count) * 1'000'000 / std::max<int64_t>(1, now - loop.last_log),
               meta_.epoch, total, dead);
  loop.last_log = now;
  loop.last_count = total;
}

Status Engine::wait_commit() { return commit_thread_->wait(); }

// The engine thread's side of the seal; `in` is the ingest thread's, for exactly the
// records this thread processed since the last seal.
Status Engine::seal_and_commit(IngestThread& ingest, IngestSeal& in, bool final) {
  // The previous epoch's state write must have landed first: closing windows reads
  // committed medians, and epochs commit in order.
  PS_RETURN_IF_ERROR(wait_commit());
  const bool imported = has_imports_.load();
  PS_RETURN_IF_ERROR(absorb_imports());
  PS_RETURN_IF_ERROR(absorb_releases());
  // Nothing new: no empty epochs, unless a member of a group imported a task (its committed
  // state then lists it: peers see it served), expired join entries, closed windows or
  // merged the shared window tables.
  const bool idle = epoch_records_ == 0 && !final;
  seal_changed_ = imported;
  if (idle && shared_windows_) PS_RETURN_IF_ERROR(close_windows_and_expire(false));
  if (idle && !seal_changed_) {
    if (in.hand_off) PS_RETURN_IF_ERROR(finish_hand_off());  // the tables hold every record
    if (in.parked) ingest.resume();
    return Status::ok();
  }
  // No commit is in flight: what the tables reached so far, for the restart check.
  for (auto& [name, t] : tables_) meta_.table_versions[name] = t->table->known_version();
  const int64_t t0 = opts_.clock->steady_micros();
  if (!idle) PS_RETURN_IF_ERROR(close_windows_and_expire(final));
  auto sealed = std::make_shared<SealedEpoch>();
  for (auto& [name, w] : in.writers)
    sealed->files[name] = std::make_unique<DeltaStagedFiles>(std::move(w), &encode_cpu_us_);
  for (auto& [name, t] : tables_) {
    if (t->ingest_side) continue;
    PS_ASSIGN_OR_RETURN(auto w, t->take_writer());
    if (w) sealed->files[name] = std::make_unique<DeltaStagedFiles>(std::move(w), &encode_cpu_us_);
  }
  sealed->lag = std::move(in.lag);
  sealed->batch = std::move(in.batch);
  flush_task_state(sealed->batch);
  for (const auto& [name, c] : meta_.counters) {
    if (!c.balanced())
      return Status::internal("invariant broken for stream " + name + ": read " +
                              std::to_string(c.read) + " != clean " + std::to_string(c.clean) +
                              " + dead " + std::to_string(c.dead) + " + duplicates " +
                              std::to_string(c.duplicates));
  }
  // The raw archive's files are fsynced before the state write that records them.
  if (archive_) PS_RETURN_IF_ERROR(archive_->flush(meta_.archive_next));
  meta_.epoch++;
  // A table's last epoch with rows is recorded once its group is committed (the state's
  // check at start: its txn must reach it).
  for (const auto& [name, f] : sealed->files)
    if (f->rows() > 0) group_tables_.insert(name);
  sealed->flush = committer_->due(meta_.epoch, final || in.hand_off);
  const bool commits_rows = sealed->flush && !group_tables_.empty();
  if (sealed->flush) {
    for (const auto& name : group_tables_) meta_.table_epochs[name] = meta_.epoch;
    group_tables_.clear();
  }
  for (const auto& [k, v] : in.positions) meta_.positions[k] = v;
  // The tables' txn of each task will be this epoch (task hand-off: who owns a task).
  if (commits_rows && cfg_.tasks == TaskMode::kPartitions)
    for (int32_t task : tasks_of(meta_.positions)) meta_.task_epochs[task] = meta_.epoch;
  meta_.pending.clear();
  meta_.committed_at_micros = opts_.clock->now_micros();
  sealed->meta = meta_;
  sealed->records = epoch_records_;
  sealed->started_micros = epoch_started_;
  sealed->final = final;
  sealed->seal_micros = opts_.clock->steady_micros() - t0;
  epoch_records_ = 0;
  if (final || in.parked) {  // the ingest thread is parked: commit here, then let it go on
    PS_RETURN_IF_ERROR(committer_->commit(*sealed));
    // The windows this last epoch wrote: their partials go now (at the next start otherwise).
    if (final && shared_windows_) PS_RETURN_IF_ERROR(shared_windows_->remove_written());
    Status st = source_->on_epoch_committed(sealed->meta.positions);
    if (!st.is_ok())
      spdlog::warn("Source could not record committed positions. error={}", st.to_string());
    if (in.hand_off) PS_RETURN_IF_ERROR(finish_hand_off());
    if (!final) ingest.resume();
    return Status::ok();
  }
  commit_thread_->start(std::move(sealed));
  return Status::ok();
}

// Before anything is polled: where this run ends, logged so an operator can compare the
// summary's last positions against it.
Status Engine::fix_end_positions() {
  PS_ASSIGN_OR_RETURN(end_positions_, source_->fix_end_positions());
  spdlog::info("Fixed the end positions for --available-now. partitions={}", end_positions_.size());
  for (const auto& [id, end] : end_positions_)
    spdlog::info("End position. partition={} end={}", id, end);
  return Status::ok();
}

}  // namespace pinstream::runtime
