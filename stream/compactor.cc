#include "stream/compactor.h"

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"
#include "connectors/delta/vacuum.h"
#include "stream/checkpoint_store.h"

namespace pinstream::runtime {
namespace delta = connectors::delta;

Compactor::Compactor(std::shared_ptr<connectors::objstore::ObjectStore> root_store,
                     std::string root, std::vector<std::string> tables, UpkeepConfig cfg,
                     CompactorHooks hooks)
    : store_(std::move(root_store)),
      root_(std::move(root)),
      tables_(std::move(tables)),
      cfg_(cfg),
      hooks_(std::move(hooks)),
      thread_([this] { loop(); }) {}

Compactor::~Compactor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

CompactorHooks daemon_hooks(const PipelineConfig& cfg) {
  CompactorHooks hooks;
  hooks.kept_versions = [&cfg]() -> core::Result<KeptVersions> {
    PS_ASSIGN_OR_RETURN(auto store,
                        open_checkpoint_store(cfg.runtime.checkpoints_dir(), cfg.runtime.data_dir));
    PS_ASSIGN_OR_RETURN(auto all, store->list());
    KeptVersions kept;
    for (const auto& m : all)
      for (const auto& [name, version] : m.table_versions) kept[name].insert(version);
    return kept;
  };
  return hooks;
}

UpkeepCounts Compactor::counts() const {
  return {commits_.load(), vacuum_runs_.load(), vacuum_files_.load(), vacuum_bytes_.load()};
}

void Compactor::loop() {
  // This thread only: the epoch threads keep their priority, upkeep gets what is left.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  using Clock = std::chrono::steady_clock;
  const auto never = Clock::time_point::max();
  const auto compact_every = std::chrono::milliseconds(cfg_.check_interval_ms);
  const auto vacuum_every = std::chrono::milliseconds(cfg_.vacuum_interval_ms);
  // The first vacuum once started: a daemon restarted more often than the interval still
  // vacuums.
  auto next_compact = cfg_.auto_compact ? Clock::now() + compact_every : never;
  auto next_vacuum = cfg_.vacuum_interval_ms > 0 ? Clock::now() : never;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, std::min(next_compact, next_vacuum), [this] { return stop_.load(); });
      if (stop_) return;
    }
    if (Clock::now() >= next_compact) {
      pass();
      next_compact = Clock::now() + compact_every;
    }
    if (!stop_ && Clock::now() >= next_vacuum) {
      vacuum_pass();
      next_vacuum = Clock::now() + vacuum_every;
    }
  }
}

void Compactor::pass() {
  delta::OptimizeOptions opts;
  opts.min_files = cfg_.min_files;
  opts.target_file_bytes = cfg_.target_file_bytes;
  opts.stop = &stop_;
  opts.tiered = true;  // rewriting its own outputs every round would grow quadratically
  for (const auto& name : tables_) {
    if (stop_) return;
    auto& t = handles_[name];
    const delta::Snapshot* snap = nullptr;
    if (!t) {
      auto opened = delta::DeltaTable::open_existing(delta::sub_store(store_, name),
                                                     root_ + "/" + name, name);
      if (!opened) continue;  // not created yet, or unreadable: the epoch path reports that
      t = std::move(*opened);
      snap = &t->known_snapshot();  // just read to its end
    } else {
      auto latest = t->latest_snapshot();  // reads only the commits since the last pass
      if (!latest) {
        t.reset();  // a half-read log: opened again at the next pass
        continue;
      }
      snap = *latest;
    }
    if (!delta::needs_optimize(*snap, opts)) continue;
    auto r = delta::optimize_table(*t, opts);
    if (!r) {
      t.reset();
      spdlog::warn("auto-compaction of table {} failed (retried in {} ms): {}", name,
                   cfg_.check_interval_ms, r.error().message());
      continue;
    }
    commits_ += r->commits;
    if (r->commits > 0)
      spdlog::info("auto-compaction: table {}: {} files compacted into {}", name, r->removed_files,
                   r->added_files);
  }
}

void Compactor::vacuum_pass() {
  KeptVersions kept;
  if (hooks_.kept_versions) {
    auto k = hooks_.kept_versions();
    if (!k) {
      spdlog::warn(
          "scheduled vacuum skipped: the kept checkpoints cannot be listed ({}); "
          "retried in {}",
          k.error().message(), delta::format_duration(cfg_.vacuum_interval_ms));
      return;
    }
    kept = std::move(*k);
  }
  for (const auto& name : tables_) {
    if (stop_) return;
    auto t =
        delta::DeltaTable::open_existing(delta::sub_store(store_, name), root_ + "/" + name, name);
    if (!t) continue;  // not created yet, or unreadable: the epoch path reports that
    delta::VacuumOptions opts;
    opts.retention_ms = cfg_.vacuum_retain_ms;
    opts.keep_versions = kept[name];
    if (hooks_.now_ms) opts.now_ms = hooks_.now_ms();
    auto r = delta::vacuum_table(**t, opts);
    if (!r) {
      spdlog::warn("scheduled vacuum of table {} failed (retried in {}): {}", name,
                   delta::format_duration(cfg_.vacuum_interval_ms), r.error().message());
      continue;
    }
    auto snap = (*t)->latest_snapshot();
    if (snap && r->retention_ms < delta::deleted_file_retention_ms(**snap) &&
        warned_.insert(name).second)
      spdlog::warn(
          "tables.upkeep.vacuum_retain {} is below table {}'s retention of {}: versions "
          "older than that can no longer be read (kept checkpoints' files stay)",
          delta::format_duration(r->retention_ms), name,
          delta::format_duration(delta::deleted_file_retention_ms(**snap)));
    vacuum_files_ += r->files;
    vacuum_bytes_ += r->bytes;
    if (r->files > 0)
      spdlog::info(
          "scheduled vacuum: table {}: deleted {} files ({} bytes, {} orphans) "
          "unreferenced for {}; kept {} newer: {}{}",
          name, r->files, r->bytes, r->orphans, delta::format_duration(r->retention_ms), r->kept,
          fmt::join(r->first_paths, " "),
          r->files > static_cast<int64_t>(r->first_paths.size()) ? " ..." : "");
  }
  ++vacuum_runs_;
}

}  // namespace pinstream::runtime
