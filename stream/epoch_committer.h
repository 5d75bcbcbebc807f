// The epoch commit protocol (SPEC section 6, README "Delivery guarantees"), on its own:
// a sealed epoch's staged files are made durable, then one synchronous state write records
// the state changes, positions, counters and the pending table commits (the commit point),
// then each table gets its commit with txn {appId, version = epoch}, skipped where it has
// landed already, then a checkpoint when one is due. After a crash at any step, a new
// committer over the same state and tables ends equal to a clean run: before the state
// write the epoch is simply redone from the sources; after it, redo() applies what is
// pending. The engine seals epochs and wires the committer to Delta and RocksDB.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/state_store.h"
#include "stream/checkpoint_store.h"
#include "stream/core/time.h"
#include "stream/epoch_meta.h"
#include "stream/table_sink.h"

namespace pinstream::runtime {

// An epoch as the engine seals it: what commit() needs, owned by the committing thread.
struct SealedEpoch {
  EpochMeta meta;  // the epoch's metadata (epoch, positions, counters); commit() fills pending
  std::map<std::string, std::unique_ptr<StagedFiles>> files;  // by table
  state::StateStore::WriteBatch batch;  // dedup claims, join and aggregate changes
  std::map<std::string, int64_t> lag;   // by stream, handed to the committed callback
  int64_t records = 0;                  // records of the epoch
  int64_t started_micros = 0;           // steady micros of the epoch's start
  int64_t seal_micros = 0;              // steady micros the seal took
  bool final = false;                   // the run's last epoch: its checkpoint is awaited
  // Whether the tables are committed with this epoch (EpochCommitter::due). Default: true.
  // False: its files join the open group (EpochMeta::group), committed with a later epoch.
  bool flush = true;
};

// How long an epoch and its commit took, for the latency histograms.
struct CommitTiming {
  double epoch_ms = 0;   // from the epoch's start to its commit's end
  double commit_ms = 0;  // seal plus commit
};

class EpochCommitter {
 public:
  struct Options {
    // Run the tables' parts on one thread each (tables in an object store, where each part
    // waits on round trips); else one after another on the calling thread.
    bool parallel_tables = false;          // Default: false
    int64_t checkpoint_every_epochs = 10;  // Default: 10
    int64_t checkpoint_retention = 20;     // Default: keep the last 20 checkpoints
    int64_t commit_every = 1;              // Default: 1: each epoch commits its tables
    const core::Clock* clock = &core::system_clock();
  };
  // Called on the committing thread once an epoch's table commits are done, before its
  // checkpoint: the epoch is committed (queries may see it).
  using Committed = std::function<void(const EpochMeta&, std::map<std::string, int64_t> lag,
                                       const CommitTiming&)>;

  // `tables` and `checkpoints` (may be null: no checkpoints) outlive the committer.
  EpochCommitter(Options opts, StateWriter& state, std::map<std::string, TableSink*> tables,
                 CheckpointStore* checkpoints, Committed on_committed);
  // Waits for a checkpoint upload still running.
  ~EpochCommitter();
  EpochCommitter(const EpochCommitter&) = delete;
  EpochCommitter& operator=(const EpochCommitter&) = delete;

  // Whether epoch `epoch` commits the tables: every `commit_every`-th epoch, the last one,
  // and every epoch due for a checkpoint (a checkpoint records committed table versions).
  bool due(int64_t epoch, bool final) const;
  // After a restart: the open group the state recorded (EpochMeta::group).
  void resume_group(std::map<std::string, std::vector<std::string>> group) {
    group_ = std::move(group);
  }
  // Commits `sealed` (one at a time, in epoch order). The first failing step's error; the
  // steps before it stay done (see the header comment for what a restart does then).
  core::Status commit(SealedEpoch& sealed);
  // Crash recovery: the table commits `meta.pending` lists, each skipped where the table
  // already holds one of meta.app_ids() at >= meta.epoch. A table that is not configured any more
  // is skipped with a warning. The first table's error otherwise.
  core::Status redo(const EpochMeta& meta);
  // Keeps a checkpoint of the epoch just committed (nothing when it exists already). On an
  // object store the upload runs on its own thread (skipped while the previous one is
  // still uploading), awaited when `final`: its error then.
  core::Status checkpoint(const EpochMeta& committed, bool final = false);

 private:
  core::Status finish_files(SealedEpoch& sealed);
  core::Status wait_upload();
  // Runs one part per table: see Options::parallel_tables. Every part runs to its end; the
  // first failure is returned.
  core::Status for_each_table(const std::vector<std::function<core::Status()>>& parts) const;

  Options opts_;
  StateWriter& state_;
  std::map<std::string, TableSink*> tables_;
  CheckpointStore* checkpoints_;
  Committed on_committed_;
  std::future<core::Status> upload_;  // the checkpoint being uploaded (object store)
  // The open group's add actions by table, as the last state write recorded them.
  std::map<std::string, std::vector<std::string>> group_;
};

}  // namespace pinstream::runtime
