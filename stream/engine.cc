// Engine: building the pipeline's components, recovery and the run loop.
// Per-record processing is in engine_process.cc, the epoch commit in engine_commit.cc.
#include "stream/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "connectors/registry.h"
#include "stream/checkpoints.h"
#include "stream/engine_internal.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Result;
using core::Status;

Engine::Engine(const PipelineConfig& cfg, EngineOptions opts, LockFile lock)
    : cfg_(cfg), opts_(opts), lock_(std::move(lock)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(const PipelineConfig& cfg, EngineOptions opts) {
  PS_ASSIGN_OR_RETURN(LockFile lock, LockFile::acquire(cfg.runtime.data_dir));
  std::unique_ptr<Engine> e(new Engine(cfg, opts, std::move(lock)));
  e->started_at_ = opts.clock->now_micros();
  if (!opts.replay_from.empty()) PS_RETURN_IF_ERROR(e->restore_checkpoint(opts.replay_from));
  PS_RETURN_IF_ERROR(e->build());
  PS_RETURN_IF_ERROR(e->recover());
  return e;
}

Status Engine::build() {
  state::StateStore::Options so;
  PS_ASSIGN_OR_RETURN(store_, state::StateStore::open(cfg_.runtime.state_dir(), so));
  PS_ASSIGN_OR_RETURN(plan_, Plan::build(cfg_, store_.get()));
  for (const auto& s : plan_->streams)
    if (!s.cfg->table.empty()) PS_RETURN_IF_ERROR(open_table(s.cfg->table, s.cleaner->output_schema()));
  PS_RETURN_IF_ERROR(open_table(cfg_.tables.dead_letters, dead_letter_schema()));
  if (plan_->event_time_stream >= 0)
    PS_RETURN_IF_ERROR(open_table(cfg_.tables.late_records, late_record_schema()));
  if (plan_->aggregates) {
    for (const auto& [name, schema] : plan_->aggregates->window_tables())
      PS_RETURN_IF_ERROR(open_table(name, schema));
  }
  dedup_ = std::make_unique<state::Dedup>(*store_);
  std::vector<RawArchive::Target> archived;
  bool any_archive = false;
  for (const auto& s : cfg_.streams) {
    archived.push_back({s.archive_root, s.archive_topic});
    any_archive = any_archive || !s.archive_root.empty();
  }
  if (any_archive) archive_ = std::make_unique<RawArchive>(std::move(archived));

  connectors::Registry registry;
  connectors::register_builtin(registry);
  connectors::SourceFactory factory = registry.source(cfg_.source_kind);
  if (!factory) return Status::invalid(cfg_.file + ": source kind '" + cfg_.source_kind + "' is not available in this build");
  std::vector<connectors::StreamBinding> bindings;
  for (size_t i = 0; i < cfg_.streams.size(); ++i)
    bindings.push_back({static_cast<uint32_t>(i), cfg_.streams[i].name, cfg_.streams[i].source});
  Status err;
  source_ = factory(bindings, cfg_.source_settings, err);
  if (!source_) return err.is_ok() ? Status::internal("source factory failed") : err;
  return Status::ok();
}

Status Engine::open_table(const std::string& name, const core::Schema& schema) {
  if (tables_.count(name)) return Status::ok();
  auto t = std::make_unique<TableRt>();
  t->name = name;
  PS_ASSIGN_OR_RETURN(t->table, connectors::delta::DeltaTable::open(cfg_.tables.root + "/" + name, name, schema));
  tables_[name] = std::move(t);
  return Status::ok();
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
    PS_RETURN_IF_ERROR(finish_replay_restore());
  } else if (raw) {
    // Crash recovery: the last epoch's Delta commits may not have happened; redo them
    // (skipped per table when its txn already holds the epoch).
    PS_RETURN_IF_ERROR(apply_table_commits(meta_));
    spdlog::info("Resuming after committed epoch. epoch={} generation={}", meta_.epoch, meta_.generation);
  }
  for (const auto& s : plan_->streams) meta_.counters.try_emplace(s.cfg->name);
  meta_.pending.clear();
  PS_RETURN_IF_ERROR(source_->open(meta_.positions));
  parts_ = source_->partitions();
  lag_ = source_->lag();
  publish();
  // A fresh data directory keeps checkpoint 0 (empty state, empty tables), so that
  // `replay --from-checkpoint 0` can rebuild everything under a changed configuration.
  if (!raw && !replay_) PS_RETURN_IF_ERROR(maybe_checkpoint());
  return Status::ok();
}

std::chrono::milliseconds Engine::poll_timeout() const {
  return std::chrono::milliseconds(std::min<int64_t>(100, cfg_.runtime.epoch_interval_ms));
}

// Two threads share the work: the ingest thread polls, cleans, dedups and encodes the
// cleaned tables' rows; this thread joins, aggregates and decides when an epoch commits.
// A commit parks the ingest thread first (drain_and_commit), so the epoch holds exactly the
// records both threads have handled and the commit sees quiet state.
Status Engine::run() {
  parts_ = source_->partitions();
  ingest_parts_seen_ = parts_.size();
  // Enough items in flight (up to 64k records) for the ingest thread to keep working
  // through a commit, which runs on this thread; fewer than an epoch's worth, since the
  // items waiting at a commit join its epoch.
  const int64_t in_flight = std::min<int64_t>(65536, cfg_.runtime.epoch_max_records);
  const size_t depth = static_cast<size_t>(std::clamp<int64_t>(in_flight / cfg_.runtime.poll_batch, 2, 64));
  IngestThread ingest([this](IngestItem& item) { this->ingest(item); }, depth);
  ingest.start();
  epoch_started_ = opts_.clock->steady_micros();
  int64_t last_log = epoch_started_;
  int64_t last_count = 0;
  while (true) {
    if (opts_.stop && opts_.stop->load()) break;
    bool idle = false;
    if (IngestItem* item = ingest.next(poll_timeout())) {
      Status st = item->error.is_ok() ? process(*item) : item->error;
      idle = item->idle;
      ingest.release(item);
      PS_RETURN_IF_ERROR(st);
    }
    if (idle) break;
    int64_t now = opts_.clock->steady_micros();
    if (epoch_records_ >= cfg_.runtime.epoch_max_records ||
        now - epoch_started_ >= cfg_.runtime.epoch_interval_ms * 1000) {
      PS_RETURN_IF_ERROR(drain_and_commit(ingest, false));
      epoch_started_ = opts_.clock->steady_micros();
    }
    if (now - last_log >= 5'000'000) {
      int64_t total = 0, dead = 0;
      for (const auto& [name, c] : meta_.counters) { total += c.read; dead += c.dead; }
      spdlog::info("Progress. records_per_s={} epoch={} records={} dead_letters={}",
                   (total - last_count) * 1'000'000 / std::max<int64_t>(1, now - last_log),
                   meta_.epoch, total, dead);
      last_log = now;
      last_count = total;
    }
  }
  PS_RETURN_IF_ERROR(drain_and_commit(ingest, true));
  spdlog::info("Stopped after a final commit. epoch={}", meta_.epoch);
  return Status::ok();
}

Status Engine::drain_and_commit(IngestThread& ingest, bool final) {
  ingest.pause();
  while (IngestItem* item = ingest.next(std::chrono::milliseconds(0))) {
    Status st = item->error.is_ok() ? process(*item) : item->error;
    ingest.release(item);
    PS_RETURN_IF_ERROR(st);
  }
  if (epoch_records_ == 0 && !final) {  // nothing new: no empty epochs
    ingest.resume();
    return Status::ok();
  }
  // The seal, while the ingest thread is parked.
  PS_RETURN_IF_ERROR(close_windows_and_expire(final));
  Sealed sealed;
  for (auto& [name, t] : tables_)
    if (t->writer) sealed.writers[name] = std::move(t->writer);
  sealed.positions = source_->positions();
  sealed.lag = source_->lag();
  parts_ = source_->partitions();
  dedup_->flush(sealed.batch);
  // Claims past the dedup cache are visible only once written: keep the ingest thread
  // parked until then (a rare, bounded-memory mode).
  const bool quiet = final || dedup_->spilled();
  if (!quiet) ingest.resume();
  PS_RETURN_IF_ERROR(commit_epoch(sealed, final));
  if (quiet) {
    Status st = source_->on_epoch_committed(meta_.positions);
    if (!st.is_ok()) spdlog::warn("Source could not record committed positions. error={}", st.to_string());
    if (!final) ingest.resume();
  } else {
    std::lock_guard<std::mutex> lock(committed_mu_);
    committed_positions_ = meta_.positions;
  }
  return Status::ok();
}

CommittedView Engine::committed() const {
  std::lock_guard<std::mutex> lock(published_mu_);
  return published_;
}

void LatencyHistogram::observe(double ms) {
  for (size_t i = 0; i < std::size(kBoundsMs); ++i)
    if (ms <= kBoundsMs[i]) ++buckets[i];
  ++count;
  sum_ms += ms;
}

void Engine::publish() {
  CommittedView v;
  v.epoch = meta_.epoch;
  v.reader = store_->snapshot();
  v.meta = meta_;
  metrics_.state_bytes = store_->approximate_size();
  metrics_.lag_unit = source_->lag_unit();
  metrics_.lag.clear();
  const bool by_max = metrics_.lag_unit == std::string("ms");  // time behind: the worst shard
  for (const auto& [idx, lag] : lag_) {
    if (idx >= parts_.size() || parts_[idx].stream >= plan_->streams.size()) continue;
    int64_t& at = metrics_.lag[plan_->streams[parts_[idx].stream].cfg->name];
    at = by_max ? std::max(at, lag) : at + lag;
  }
  v.metrics = metrics_;
  std::lock_guard<std::mutex> lock(published_mu_);
  published_ = std::move(v);
}

}  // namespace pinstream::runtime
