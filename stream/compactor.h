// Table upkeep in the daemon (SPEC section 5, "Table upkeep"): a background thread, at a
// lower CPU priority, that compacts (connectors/delta/optimize.h, size tiers) and every
// `vacuum_interval` vacuums each table (connectors/delta/vacuum.h) keeping the files of every
// kept pinstream checkpoint. It looks at a table's latest snapshot (no data read) when the
// engine tells it an epoch committed to the table (notify), and at every table every
// `check_interval_ms` (other writers). A look starts `headroom` small files below
// `min_files`, the headroom being the most files that landed above that trigger while a
// recent round ran, so that SPEC's bound holds at every version, not only after a look.
// Rounds go to the most urgent table first (most small files in a partition), one at a
// time, so that tables triggered by the same epochs wait one small round each, not a whole
// look. It has its own table handles, so the epoch path never waits for it: the commit
// thread's next commit just meets a taken version and re-reads.
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

#include "connectors/delta/optimize.h"
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
  // An epoch committed to `table`: the thread looks at it now. Cheap (a set insert under a
  // lock the thread never holds during I/O): the commit thread calls it.
  void notify(const std::string& table);
  int64_t commits() const { return commits_.load(); }
  // The headroom below min_files the next look leaves (HeadroomEstimate). Thread-safe.
  int64_t headroom() const { return headroom_now_.load(); }
  // Thread-safe.
  UpkeepCounts counts() const;

 private:
  struct Look {  // what a pass did to one table, for its log line
    int64_t rounds = 0, removed = 0, added = 0, landed = 0, peak = 0, ms = 0;
  };
  void loop();
  // Rounds, the most urgent table first, until none of `todo` (and of the tables notified
  // meanwhile) needs one.
  void compact(std::set<std::string> todo);
  // The table's latest snapshot through its kept handle (opened on first use); null when
  // it does not exist yet or cannot be read.
  const connectors::delta::Snapshot* latest(const std::string& name);
  connectors::delta::OptimizeOptions options() const;
  // One round of each partition of `name` that needs one, with the rounds due at the trigger
  // between its files unless `nested` (it is one of those); false on an error (logged).
  bool round(const std::string& name, connectors::delta::OptimizeOptions opts,
             std::map<std::string, Look>& looks, bool nested);
  // Between two files of a round of `outer` (inputs `busy`): a round of each open table
  // holding trigger_files() small files in a partition.
  void between(const std::string& outer, const std::vector<connectors::delta::AddFile>& busy,
               std::map<std::string, Look>& looks);
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
  std::set<std::string> dirty_;             // notified since the thread last took them (under mu_)
  std::map<std::string, int64_t> cascade_;  // tables whose look goes on: cascade_from
  connectors::delta::HeadroomEstimate headroom_;
  std::atomic<int64_t> headroom_now_;
  std::thread thread_;
};

}  // namespace pinstream::runtime
