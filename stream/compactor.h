// Auto-compaction in the daemon (SPEC section 5, "Table upkeep"): a background thread, at
// a lower CPU priority, that every `check_interval_ms` looks at each table's latest snapshot
// (no data read) and compacts the partitions holding `min_files` small files
// (connectors/delta/optimize.h). It has its own table handles, so the epoch path never
// waits for it: the commit thread's next commit just meets a taken version and re-reads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "stream/pipeline_config.h"

namespace pinstream::connectors::delta {
class DeltaTable;
}

namespace pinstream::runtime {

class Compactor {
 public:
  // Starts the thread over `tables` (names under `root`, whose store is `root_store`).
  Compactor(std::shared_ptr<connectors::objstore::ObjectStore> root_store, std::string root,
            std::vector<std::string> tables, UpkeepConfig cfg);
  // Stops between files (a round's uncommitted outputs are deleted) and joins.
  ~Compactor();
  int64_t commits() const { return commits_.load(); }

 private:
  void loop();
  void pass();
  std::shared_ptr<connectors::objstore::ObjectStore> store_;
  std::string root_;
  std::vector<std::string> tables_;
  UpkeepConfig cfg_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> commits_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  // One handle per table, kept between passes (the compactor thread's only): each pass
  // reads only the commits since the last one, not the checkpoint and log again.
  std::map<std::string, std::unique_ptr<connectors::delta::DeltaTable>> handles_;
  std::thread thread_;
};

}  // namespace pinstream::runtime
