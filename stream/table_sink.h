// What the epoch committer needs from a table and from the state store, as two small
// interfaces (SPEC section 6): Delta tables implement TableSink (delta_table_sink.h), the
// RocksDB state implements StateWriter (state_writer.h); the unit tests use fakes. Rows are
// staged by the engine's threads straight into the table's writer (the hot path, not
// virtual); the committer sees a sealed epoch's files only through StagedFiles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/state_store.h"
#include "stream/core/status.h"
#include "stream/epoch_meta.h"

namespace pinstream::runtime {

// One table's files staged during one epoch, not yet visible to any reader.
class StagedFiles {
 public:
  virtual ~StagedFiles() = default;
  virtual int64_t rows() const = 0;
  // Closes the files and makes them durable (fsynced, or uploaded for a table in an object
  // store); returns their add actions as JSON (AddFile::to_json), empty without rows.
  // IoError (or the object store's error) when a file cannot be written.
  virtual core::Result<std::vector<std::string>> finish() = 0;
};

// A table that takes idempotent commits: each carries one txn {app_id, version} per task
// (stream/tasks.h). One thread at a time per sink.
class TableSink {
 public:
  struct Committed {
    int64_t version = -1;  // the table's version after the call
    bool skipped = false;  // the sink already held a txn(app_ids) >= version: nothing written
  };
  virtual ~TableSink() = default;
  // Commits `adds_json` as one commit with a txn {app_id, txn_version} for each of
  // `app_ids` (non-empty). A sink may find one of them already there and skip (the committer
  // checks known_txn_version() first anyway). The sink's error on failure; after a failure
  // the commit may or may not have landed.
  virtual core::Result<Committed> commit(const std::vector<std::string>& adds_json,
                                         const std::vector<std::string>& app_ids,
                                         int64_t txn_version) = 0;
  // txn(app_id) as last seen by this sink (its own commits and its last read), no I/O.
  virtual std::optional<int64_t> known_txn_version(const std::string& app_id) const = 0;
  // txn(app_id) read from the table now; the sink's error when it cannot be read.
  virtual core::Result<std::optional<int64_t>> txn_version(const std::string& app_id) = 0;
  // The table's newest version, read now (-1 when it has none).
  virtual core::Result<int64_t> latest_version() = 0;
  // The version as of this sink's own commits and last read (no I/O). For the pipeline's
  // tables (one writer per tables root, stream/tables_owner.h) it holds every epoch the sink
  // committed; other writers' later commits (compaction) change no row.
  virtual int64_t known_version() const = 0;
  // A new version whose content equals `version`'s (Delta's RESTORE); the new version.
  virtual core::Result<int64_t> restore(int64_t version) = 0;
};

// The state store's side of an epoch: one synchronous write, and checkpoints of it.
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  // Writes `batch` plus `meta` (under kEpochMetaKey) at once, synchronously (fsynced):
  // the epoch's commit point. The store's error on failure (nothing of it is visible then).
  virtual core::Status commit(state::StateStore::WriteBatch& batch, const EpochMeta& meta) = 0;
  // A checkpoint of the state in `dir` (which must not exist yet).
  virtual core::Status checkpoint(const std::string& dir) = 0;
};

// StateWriter over a RocksDB StateStore (not owned).
class StoreStateWriter final : public StateWriter {
 public:
  explicit StoreStateWriter(state::StateStore& store) : store_(store) {}
  core::Status commit(state::StateStore::WriteBatch& batch, const EpochMeta& meta) override {
    batch.put(kEpochMetaKey, meta.to_json());
    return store_.write(batch, true);
  }
  core::Status checkpoint(const std::string& dir) override { return store_.checkpoint(dir); }

 private:
  state::StateStore& store_;
};

}  // namespace pinstream::runtime
