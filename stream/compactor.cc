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
#include "stream/task_guard.h"

namespace pinstream::runtime {
namespace delta = connectors::delta;

namespace {
// Rounds per pass, then the loop's other duties (vacuum) before the next.
constexpr int kRoundsPerPass = 64;
}  // namespace

Compactor::Compactor(std::shared_ptr<connectors::objstore::ObjectStore> root_store,
                     std::string root, std::vector<std::string> tables, UpkeepConfig cfg,
                     CompactorHooks hooks)
    : store_(std::move(root_store)),
      root_(std::move(root)),
      tables_(std::move(tables)),
      cfg_(cfg),
      hooks_(std::move(hooks)),
      headroom_(delta::kHeadroomFloor, delta::kHeadroomWindow),
      headroom_now_(delta::kHeadroomFloor),
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
                        open_checkpoint_store(member_checkpoints_dir(cfg), cfg.runtime.data_dir));
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

void Compactor::notify(const std::string& table) {
  if (!cfg_.auto_compact) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_.insert(table).second) return;  // already woken for it
  }
  cv_.notify_one();
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
    std::set<std::string> todo;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, std::min(next_compact, next_vacuum),
                     [this] { return stop_.load() || !dirty_.empty(); });
      if (stop_) return;
      todo.swap(dirty_);
    }
    // The timed look: every table (commits of other writers, tables created since).
    const bool timed = Clock::now() >= next_compact;
    if (timed) todo.insert(tables_.begin(), tables_.end());
    if (!todo.empty()) compact(std::move(todo));
    if (timed) next_compact = Clock::now() + compact_every;
    if (!stop_ && Clock::now() >= next_vacuum) {
      vacuum_pass();
      next_vacuum = Clock::now() + vacuum_every;
    }
  }
}

delta::OptimizeOptions Compactor::options() const {
  delta::OptimizeOptions opts;
  opts.min_files = cfg_.min_files;
  opts.target_file_bytes = cfg_.target_file_bytes;
  opts.stop = &stop_;
  opts.tiered = true;  // rewriting its own outputs every round would grow quadratically
  opts.headroom = headroom_.value();
  opts.max_rounds = 1;  // one round, then the most urgent table again
  return opts;
}

const delta::Snapshot* Compactor::latest(const std::string& name) {
  auto& t = handles_[name];
  if (!t) {
    auto opened =
        delta::DeltaTable::open_existing(delta::sub_store(store_, name), root_ + "/" + name, name);
    if (!opened) return nullptr;  // not created yet, or unreadable: the epoch path reports that
    t = std::move(*opened);
    return &t->known_snapshot();  // just read to its end
  }
  auto snap = t->latest_snapshot();  // reads only the commits since the last look
  if (!snap) {
    t.reset();  // a half-read log: opened again at the next look
    return nullptr;
  }
  return *snap;
}

bool Compactor::round(const std::string& name, delta::OptimizeOptions opts,
                      std::map<std::string, Look>& looks, bool nested) {
  if (!nested)  // the rounds due at the trigger go between this round's files
    opts.between_files = [this, &name, &looks](const std::vector<delta::AddFile>& busy) {
      between(name, busy, looks);
    };
  Look& look = looks[name];
  const auto start = std::chrono::steady_clock::now();
  auto r = delta::optimize_table(*handles_[name], opts);
  look.ms += std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - start)
                 .count();
  if (!r) {
    if (!nested) handles_[name].reset();  // a nested round's handle may be the outer one's
    spdlog::warn("auto-compaction of table {} failed (retried in {} ms): {}", name,
                 cfg_.check_interval_ms, r.error().message());
    return false;
  }
  commits_ += r->commits;
  if (r->commits == 0) return true;
  cascade_[name] = r->last_output_bytes;
  if (r->peak_small > 0) headroom_.observe(r->peak_small - delta::trigger_files(opts) + 1);
  headroom_now_ = headroom_.value();
  look.rounds += r->commits;
  look.removed += r->removed_files;
  look.added += r->added_files;
  look.landed = std::max(look.landed, r->max_landed);
  look.peak = std::max(look.peak, r->peak_small);
  return true;
}

void Compactor::between(const std::string& outer, const std::vector<delta::AddFile>& busy,
                        std::map<std::string, Look>& looks) {
  for (const auto& name : tables_) {
    if (stop_) return;
    auto it = handles_.find(name);
    if (it == handles_.end() || !it->second) continue;  // not open: no look has seen it due
    auto snap = it->second->latest_snapshot();
    if (!snap) continue;  // the next look reopens it
    delta::OptimizeOptions opts = options();
    if (delta::most_small_files(**snap, opts) < delta::trigger_files(opts)) continue;
    if (name == outer) opts.busy = &busy;
    (void)round(name, opts, looks, true);
  }
}

void Compactor::compact(std::set<std::string> todo) {
  std::map<std::string, Look> looks;
  for (int rounds = 0; !stop_; ++rounds) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      todo.merge(dirty_);
      dirty_.clear();
    }
    if (rounds >= kRoundsPerPass) {  // the rest at once, after the loop's other duties
      std::lock_guard<std::mutex> lock(mu_);
      dirty_.merge(todo);
      break;
    }
    std::string best;
    int64_t best_small = -1;
    for (auto it = todo.begin(); it != todo.end();) {
      const delta::Snapshot* snap = latest(*it);
      delta::OptimizeOptions opts = options();
      opts.cascade_from = cascade_[*it];
      if (!snap || !delta::needs_optimize(*snap, opts)) {
        cascade_.erase(*it);  // the look is over: the next starts at the trigger
        it = todo.erase(it);
        continue;
      }
      if (int64_t n = delta::most_small_files(*snap, opts); n > best_small)
        best = *it, best_small = n;
      ++it;
    }
    if (best.empty()) break;
    delta::OptimizeOptions opts = options();
    opts.cascade_from = cascade_[best];
    if (!round(best, opts, looks, false)) todo.erase(best);
  }
  for (const auto& [name, l] : looks)
    if (l.rounds > 0)
      spdlog::info(
          "auto-compaction: table {}: {} files compacted into {} in {} rounds ({} ms); at most "
          "{} small files in a partition while one due at the trigger ran ({} commits landed "
          "during one); "
          "headroom {}",
          name, l.removed, l.added, l.rounds, l.ms, l.peak, l.landed, headroom_.value());
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
