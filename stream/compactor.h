// Table upkeep in the daemon (SPEC section 5, "Table upkeep"): a background thread, at a
// lower CPU priority, that every `check_interval_ms` looks at each table's latest snapshot
// (no data read) and compacts the partitions holding `min_files` small files
// (connectors/delta/optimize.h), and every `vacuum_interval` vacuums each table
// (connectors/delta/vacuum.h) keeping the files of every kept pinstream checkpoint. It has
// its own table handles, so the epoch path never waits for it: the commit thread's next
// commit just meets a taken version and re-reads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "stream/committed_view.h"
#include "stream/core/status.h"
#include "stream/pipeline_config.h"

namespace pinstream::connectors::delta {
class DeltaTable;
}

namespace pinstream::runtime {

// Per table, the Delta versions the kept checkpoints record (their files must stay).
using KeptVersions = std::map<std::string, std::set<int64_t>>;

struct CompactorHooks {
  // Called before each vacuum round; an error skips the round (logged). Default: none kept.
  std::function<core::Result<KeptVersions>()> kept_versions;
  // Wall clock in ms for the vacuum's ages. Default: the system clock (tests go later).
  std::function<int64_t()> now_ms;
};

// The daemon's hooks: the kept versions read from the checkpoint store of `cfg` (which
// must outlive the Compactor) through a handle of their own, as `pinstream vacuum` does.
CompactorHooks daemon_hooks(const PipelineConfig& cfg);

class Compactor {
 public:
  // Starts the thread over `tables` (names under `root`, whose store is `root_store`):
  // compaction when cfg.auto_compact, vacuum when cfg.vacuum_interval_ms > 0.
  Compactor(std::shared_ptr<connectors::objstore::ObjectStore> root_store, std::string root,
            std::vector<std::string> tables, UpkeepConfig cfg, CompactorHooks hooks = {});
  // Stops between files (a round's uncommitted outputs are deleted) and joins.
  ~Compactor();
  int64_t commits() const { return commits_.load(); }
  // Thread-safe.
  UpkeepCounts counts() const;

 private:
  void loop();
  void pass();
  void vacuum_pass();
  std::shared_ptr<connectors::objstore::ObjectStore> store_;
  std::string root_;
  std::vector<std::string> tables_;
  UpkeepConfig cfg_;
  CompactorHooks hooks_;
  std::set<std::string> warned_;  // tables whose short vacuum retention was warned about
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> vacuum_runs_{0}, vacuum_files_{0}, vacuum_bytes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  // One handle per table, kept between passes (the compactor thread's only): each pass
  // reads only the commits since the last one, not the checkpoint and log again.
  std::map<std::string, std::unique_ptr<connectors::delta::DeltaTable>> handles_;
  std::thread thread_;
};

}  // namespace pinstream::runtime
