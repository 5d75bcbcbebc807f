#include "stream/compactor.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"

namespace pinstream::runtime {
namespace delta = connectors::delta;

Compactor::Compactor(std::shared_ptr<connectors::objstore::ObjectStore> root_store,
                     std::string root, std::vector<std::string> tables, UpkeepConfig cfg)
    : store_(std::move(root_store)),
      root_(std::move(root)),
      tables_(std::move(tables)),
      cfg_(cfg),
      thread_([this] { loop(); }) {}

Compactor::~Compactor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Compactor::loop() {
  // This thread only: the epoch threads keep their priority, compaction gets what is left.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(cfg_.check_interval_ms),
                   [this] { return stop_.load(); });
      if (stop_) return;
    }
    pass();
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

}  // namespace pinstream::runtime
