// Writes a table's Delta checkpoints (checkpoint.h) and the log cleanup after each
// (log_cleanup.h), either in the caller's thread or on a thread of its own, so that the
// commit reaching a checkpoint version does not wait for it: a checkpoint rewrites every
// action of the table (tombstones included), which grows with the table while a commit
// does not. The background thread works from a copy of the snapshot; only the newest
// waiting one is kept. Each checkpoint is put before `_last_checkpoint` names it, so a
// kill -9 at any point leaves the previous checkpoint (or this one) and the whole JSON log.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "connectors/delta/actions.h"
#include "connectors/objstore/object_store.h"

namespace pinstream::connectors::delta {

class Checkpointer {
 public:
  Checkpointer(std::shared_ptr<objstore::ObjectStore> table, bool background);
  // Writes the checkpoint still waiting (a stopping daemon keeps its last one), then joins.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  // Checkpoints `snap` at snap.version: now, or (background) on the thread, replacing a
  // checkpoint that has not started yet. Best effort: a failure leaves the previous one.
  void submit(const Snapshot& snap);
  // Background only: returns once every submitted checkpoint is written (tests, shutdown).
  void wait_idle();
  int64_t written() const;  // checkpoints written so far

 private:
  void loop();
  void write(const Snapshot& snap);
  std::shared_ptr<objstore::ObjectStore> table_;
  // The commitInfo timestamp of the oldest commit the last cleanup kept: no cleanup (a
  // listing of the log and a read) until that one may have expired.
  int64_t oldest_kept_ms_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<Snapshot> waiting_;
  bool busy_ = false, stop_ = false;
  int64_t written_ = 0;
  std::thread thread_;  // not started in the foreground mode
};

}  // namespace pinstream::connectors::delta
