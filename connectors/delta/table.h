// A Delta Lake append table (protocol: minReaderVersion 1, minWriterVersion 2): Parquet data
// files written by our own writer plus `_delta_log/%020d.json` commits with protocol,
// metaData (Spark schemaString), add (with stats), commitInfo and txn {appId, version}.
// The table lives in an ObjectStore (a local directory or an S3 prefix, rooted at the
// table). Commits are atomic: put_if_absent of the version's key (link() locally, a PUT
// with If-None-Match: * on S3); a lost race re-reads the log and retries at the next
// version, so several processes may commit, and no commit file is ever overwritten.
// txn makes commits idempotent, so an epoch can be redone after a crash. Every
// `checkpoint_interval` versions a Parquet checkpoint + _last_checkpoint is written, and log
// replay starts from the latest one. RESTORE commits the remove/add actions that bring the
// active file set back to an earlier version. One DeltaTable / TableWriter per thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/delta/actions.h"
#include "connectors/objstore/object_store.h"
#include "connectors/parquet/writer.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors::delta {

struct TableOptions {
  std::vector<std::string> partition_columns;  // Default: none (not array columns)
  parquet::WriterOptions parquet;              // Default: 64 MiB row groups, snappy, dictionary
  int checkpoint_interval = 10;                // Default: a checkpoint every 10 versions; 0: never
  // Where data files are written before their upload when the table is not on the local
  // disk (s3://). Default: empty: <system temp dir>/pinstream-staging/<table name>. A local
  // table's files are written in place (no copy).
  std::string staging_dir;
  // Checkpoints written by a thread of the handle (from a copy of the snapshot), so that the
  // commit reaching one does not wait for it. Default: false (written inside the commit).
  bool background_checkpoints = false;
};

class Checkpointer;  // checkpointer.h

// Commit attempts (each after a lost race for a version) before commit/restore give up.
inline constexpr int kMaxCommitAttempts = 1000;

// Stages rows into new data files (one per partition) that no reader sees until committed.
// The files are written under `write_dir`: the table's own directory (local table), or a
// staging directory whose files finish() uploads to `upload_to` and then deletes.
class TableWriter {
 public:
  TableWriter(std::string write_dir, std::shared_ptr<objstore::ObjectStore> upload_to,
              core::Schema schema, TableOptions opts);
  ~TableWriter();
  // InvalidArgument for a row that does not fit the schema; IoError when a file cannot be written.
  core::Status append(const core::Row& row);
  // The same for `count` rows (column by column when the table is not partitioned); a
  // rejected row rejects the whole batch.
  core::Status append_rows(const core::Row* const* rows, size_t count);
  // Closes and fsyncs the files and their directories (local table), or closes, uploads and
  // deletes them (remote table: every file is in the store when this returns); returns
  // their add actions (none if no rows were appended). IoError/Unavailable when a file
  // cannot be written or uploaded. The writer can be reused afterwards for new files.
  core::Result<std::vector<AddFile>> finish();
  int64_t rows() const { return rows_; }

 private:
  struct Part;
  // The file of `row`'s partition, created on first use.
  core::Result<Part*> part_for(const core::Row& row);
  // Uploads the closed file of `p` and deletes the local copy.
  core::Status upload(const Part& p);
  std::string dir_;
  std::shared_ptr<objstore::ObjectStore> upload_;
  core::Schema schema_, data_schema_;
  TableOptions opts_;
  std::vector<size_t> part_cols_, data_cols_;
  std::map<std::string, std::unique_ptr<Part>> parts_;  // partition dir ("" unpartitioned)
  core::Row scratch_;
  int64_t rows_ = 0;
};

struct CommitOutcome {
  int64_t version = -1;
  bool skipped = false;  // the table already held txn(appId) >= the requested version
};

class DeltaTable {
 public:
  // Opens the table at `location` (a directory path or s3://bucket/prefix/table), creating
  // it (version 0: protocol + metaData named `name`) when absent. An existing table whose
  // schema or partition columns differ is InvalidArgument; a store that cannot be reached
  // gives its error (Unavailable, or InvalidArgument for a refused bucket/credentials).
  static core::Result<std::unique_ptr<DeltaTable>> open(const std::string& location,
                                                        const std::string& name,
                                                        const core::Schema& schema,
                                                        TableOptions opts = TableOptions());
  // The same on `store` (rooted at the table, e.g. a tables root's store narrowed with
  // sub_store()); `location` names it in messages and, when local, is where files are written.
  static core::Result<std::unique_ptr<DeltaTable>> open(
      std::shared_ptr<objstore::ObjectStore> store, const std::string& location,
      const std::string& name, const core::Schema& schema, TableOptions opts = TableOptions());
  ~DeltaTable();  // waits for a background checkpoint in progress (table_checkpoint.cc)
  DeltaTable(const DeltaTable&) = delete;
  DeltaTable& operator=(const DeltaTable&) = delete;
  const core::Schema& schema() const { return schema_; }
  core::Result<int64_t> latest_version();
  core::Result<std::optional<int64_t>> txn_version(const std::string& app_id);
  // Every txn appId -> version the log holds.
  core::Result<std::map<std::string, int64_t>> txn_versions();
  // The version as of the last refresh (no I/O): a lower bound of latest_version().
  int64_t known_version() const { return snapshot_.version; }
  // txn(app_id) as of the last refresh or own commit (no I/O); nullopt when absent.
  std::optional<int64_t> known_txn_version(const std::string& app_id) const {
    auto it = snapshot_.txn.find(app_id);
    return it == snapshot_.txn.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  std::unique_ptr<TableWriter> new_writer() const;
  // Commits `adds` as the next version with txn {app_id, txn_version}, or nothing when the
  // log already holds txn(app_id) >= txn_version (skipped). Retries on a lost race.
  core::Result<CommitOutcome> commit(const std::vector<AddFile>& adds, const std::string& app_id,
                                     int64_t txn_version) {
    return commit(adds, std::vector<std::string>{app_id}, txn_version);
  }
  // The same with one txn {app_id, txn_version} per app id (a table written by several
  // tasks, SPEC section 9); skipped when the log holds any of them at >= txn_version.
  core::Result<CommitOutcome> commit(const std::vector<AddFile>& adds,
                                     const std::vector<std::string>& app_ids, int64_t txn_version);
  // Brings the active files back to those of `version`; returns the new version.
  // InvalidArgument for a version the log does not hold.
  core::Result<int64_t> restore(int64_t version);
  // The add actions of the latest version (log replay from the last checkpoint).
  core::Result<std::vector<AddFile>> active_files();
  // ---- upkeep (defined in upkeep_table.cc: optimize, vacuum) ----
  // Opens an existing table with the schema and partition columns its log holds (no
  // configuration needed). NotFound when `store` holds no table.
  static core::Result<std::unique_ptr<DeltaTable>> open_existing(
      std::shared_ptr<objstore::ObjectStore> store, const std::string& location,
      const std::string& name, TableOptions opts = TableOptions());
  // The latest snapshot (re-reads the log); valid until the next call on this table.
  core::Result<const Snapshot*> latest_snapshot();
  // The snapshot as of the last refresh or own commit (no I/O).
  const Snapshot& known_snapshot() const { return snapshot_; }
  // The snapshot of an earlier `version` (replayed from the newest checkpoint before it).
  core::Result<Snapshot> snapshot_at(int64_t version) const { return replay_to(version); }
  // Commits `actions` (action lines, commitInfo included) as the next version when `valid`
  // accepts the latest snapshot; nullopt (nothing written) when it does not, i.e. a
  // concurrent commit conflicts. Retries on a lost race for a version.
  core::Result<std::optional<int64_t>> commit_checked(
      const std::string& actions, const std::function<bool(const Snapshot&)>& valid);
  // Returns once the checkpoints this handle started are written (background ones).
  void wait_checkpoints();
  // The location given to open() (a path or an s3:// URL), for messages.
  const std::string& dir() const { return dir_; }
  objstore::ObjectStore& store() const { return *store_; }

 private:
  DeltaTable();  // table_checkpoint.cc (Checkpointer is complete there)
  // open() on a handle that has read the log already (`read`, from open_existing: only
  // later commits are read), or on a new one (nullptr).
  static core::Result<std::unique_ptr<DeltaTable>> open_read(
      std::unique_ptr<DeltaTable> read, std::shared_ptr<objstore::ObjectStore> store,
      const std::string& location, const std::string& name, const core::Schema& schema,
      TableOptions opts);
  core::Status refresh();  // applies commits after snapshot_.version
  // Adds the configured schema's new nullable columns with a metaData commit, or refuses
  // a change that is not additive (connectors/delta/schema_evolution.cc).
  core::Status evolve_schema(const std::string& want);
  core::Result<Snapshot> replay_to(int64_t version) const;  // from the newest checkpoint <= version
  core::Result<bool> try_write(int64_t version,
                               const std::string& actions);  // false: version taken
  core::Status apply_own(int64_t version, const std::string& actions);
  // A checkpoint of the snapshot just committed at `version` when one is due (table_checkpoint.cc).
  void maybe_checkpoint(int64_t version);
  std::string where(const std::string& key) const { return store_->describe() + "/" + key; }

  std::shared_ptr<objstore::ObjectStore> store_;
  std::string dir_, local_dir_, name_;
  core::Schema schema_;
  TableOptions opts_;
  Snapshot snapshot_;
  int64_t last_checkpoint_ = -1;                // the newest checkpoint this handle read or started
  std::unique_ptr<Checkpointer> checkpointer_;  // made at the first checkpoint
};

}  // namespace pinstream::connectors::delta
