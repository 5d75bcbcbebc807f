// The engine: runs one pipeline over one data directory. Polls the source, cleans, dedups,
// joins and aggregates records, stages table rows, and commits them in epochs exactly once
// (SPEC section 6): staged Parquet files fsynced -> one synchronous RocksDB write with state,
// positions, counters and the pending Delta commits -> Delta commits with txn = epoch.
// Not thread-safe except where noted: run() owns the engine; queries read snapshots.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/delta/table.h"
#include "connectors/source.h"
#include "state/dedup.h"
#include "state/state_store.h"
#include "state/task_aggregates.h"
#include "state/task_dedups.h"
#include "stream/checkpoint_store.h"
#include "stream/checkpoints.h"
#include "stream/commit_thread.h"
#include "stream/committed_view.h"
#include "stream/compactor.h"
#include "stream/consistency.h"
#include "stream/core/time.h"
#include "stream/epoch_committer.h"
#include "stream/epoch_meta.h"
#include "stream/ingest_thread.h"
#include "stream/lock_file.h"
#include "stream/pipeline_config.h"
#include "stream/plan.h"
#include "stream/raw_archive.h"
#include "stream/shared_windows.h"
#include "stream/table_encoder.h"
#include "stream/task_checkpoint.h"

namespace pinstream::runtime {

struct EngineOptions {
  bool until_idle = false;  // stop once every source is drained
  // With until_idle: first fix the sources' end positions (Source::fix_end_positions),
  // so "drained" means read up to them however much producers keep writing.
  bool available_now = false;
  // `pinstream redrive`: replaces the configured source (records of partitions named
  // "redrive:..." are dead letters handed out again: their counts move out of read and dead).
  std::function<std::unique_ptr<connectors::Source>()> source;
  // The daemon: wraps the source built (see redrive_merge.h).
  std::function<std::unique_ptr<connectors::Source>(std::unique_ptr<connectors::Source>)>
      wrap_source;
  std::string replay_from;                  // checkpoint id or "latest"; empty: resume
  const std::atomic<bool>* stop = nullptr;  // set by a signal handler: finish and exit
  const core::Clock* clock = &core::system_clock();
  bool progress = false;  // a progress line on a terminal (replay)
};

class Engine {
 public:
  // Locks the data dir, opens state and tables, redoes pending Delta commits of the last
  // epoch (crash recovery) or restores a checkpoint (replay). AlreadyExists when another
  // process owns the data dir; InvalidArgument for configuration problems.
  static core::Result<std::unique_ptr<Engine>> open(const PipelineConfig& cfg, EngineOptions opts);
  ~Engine();

  // Processes until stopped (or drained with until_idle), then commits a final epoch.
  core::Status run();

  // Thread-safe: the last committed epoch's snapshot and metadata.
  CommittedView committed() const;
  const state::Views* views() const { return plan_->views.get(); }
  int64_t started_at_micros() const { return started_at_; }
  // Thread-safe: the tasks assigned here but held paused by task hand-off, with the reason
  // (TaskTaker::held; empty unless shares_tasks).
  std::map<int32_t, std::string> held_tasks() const {
    return held_tasks_ ? held_tasks_() : std::map<int32_t, std::string>();
  }
  // Each table's Delta version as last seen (no I/O); call while run() is not running.
  std::map<std::string, int64_t> table_versions() const;
  // --available-now: the end positions fixed at start, by partition id (empty otherwise).
  const core::Positions& end_positions() const { return end_positions_; }

 private:
  struct TableRt;
  Engine(const PipelineConfig& cfg, EngineOptions opts, LockFile lock);
  core::Status build();
  core::Status recover();
  // Opens the checkpoint store; returns the checkpoint to restore: the one replay asks for,
  // or "latest" when the state directory is missing and `runtime.checkpoints` is set (a new
  // machine goes on from the store), else "".
  core::Result<std::string> open_checkpoints();
  core::Status fix_end_positions();
  core::Status restore_checkpoint(const std::string& id);
  // The complete checkpoints in the store, for repair hints (empty when it cannot be read).
  std::vector<CheckpointManifest> checkpoint_list() const;
  core::Status finish_replay_restore();
  // State against tables (engine_consistency.cc): Corruption with the repair command.
  core::Result<std::vector<TableFacts>> table_facts();
  core::Status check_tables_agree(bool fresh);
  core::Status check_tables_restorable();
  core::Status check_checkpoint_state(const CheckpointManifest& m, const std::string& state) const;
  core::Status with_table_repair_hint(const core::Status& st, const std::string& dir) const;
  // Ingest thread: polls into `item` and cleans, dedups and stages each record's table row;
  // or, for a seal, hands over its side of the epoch in item.seal.
  void ingest(IngestItem& item, bool seal);
  void ingest_seal(IngestItem& item);
  // Cleans, dedups and stages every record of item.batch (after a poll).
  core::Status ingest_batch(IngestItem& item);
  core::Status ingest_record(const core::RawRecord& rec, core::Row& row, Outcome& outcome,
                             int64_t& key);
  core::Status dead_letter(const StreamPlan& s, const core::RawRecord& rec,
                           const std::string& reason);
  // Engine thread: counts, archives, joins and aggregates what the ingest thread produced.
  core::Status process(IngestItem& item);
  core::Status process_record(const core::RawRecord& rec, core::Row& row, Outcome outcome,
                              int64_t key);
  // Whether a clean record is late (and its late row written); `hold`: its event time
  // when not late (its windows wait for the post).
  core::Result<bool> lateness(const StreamPlan& s, const core::PartitionRef& part,
                              const core::RawRecord& rec, const core::Row& row, int64_t key,
                              StreamCounters& counters, std::optional<int64_t>& hold);
  // A task's join and aggregates (engine_tasks.cc), as a record's partition finds them.
  struct TaskRt {
    state::Join* join = nullptr;
    state::Aggregates* aggregates = nullptr;
  };
  // A clean record's part into the join; a completed post is derived and aggregated.
  core::Status join_record(const TaskRt& task, const StreamPlan& s, const core::Row& row,
                           int64_t key, bool late, std::optional<int64_t> hold);
  core::Status late_record(const StreamPlan& s, const core::PartitionRef& part,
                           const core::RawRecord& rec, int64_t key, int64_t event_time,
                           int64_t watermark, StreamCounters& counters);
  // Join entries that expired: counted per stream and appended to the join_expired table.
  core::Status record_expired(const std::vector<state::Join::Expired>& expired);
  std::chrono::milliseconds poll_timeout() const;
  // The run loop's own state (engine thread).
  struct RunLoop {
    bool seal_requested = false;           // a seal is asked for and has not come yet
    bool last = false;                     // the last seal (stop or drained) is asked for
    bool done = false;                     // the last seal is committed
    int64_t last_log = 0, last_count = 0;  // the last progress line: when, records read
  };
  core::Status take_item(IngestThread& ingest, IngestItem& item, RunLoop& loop);
  // Whether the streams' tables are encoded on a thread of their own: unless
  // PINSTREAM_TABLE_ENCODER is "0" (stream/table_encoder.h).
  static bool table_encoder_wanted();
  void start_encoder(IngestThread& ingest);
  void maybe_request_seal(IngestThread& ingest, RunLoop& loop, int64_t now);
  void log_progress(RunLoop& loop, int64_t now);
  // Ends the epoch at a seal item: the committer commits it on another thread (here when
  // `final`, or when the ingest thread parked itself for the state write).
  core::Status seal_and_commit(IngestThread& ingest, IngestSeal& in, bool final);
  // Waits for the commit in flight (if any) and returns its outcome.
  core::Status wait_commit();
  // The committer over the tables, the state store and the checkpoint store (after build()).
  void wire_committer();
  int64_t watermark() const;
  TableRt* table(const std::string& name);
  core::Status open_table(const std::string& name, const core::Schema& schema);
  core::Status open_tables();
  core::Status open_source();
  // Where data files of tables in an object store are written before their upload.
  std::string staging_dir() const;
  void publish(const EpochMeta& committed, std::map<std::string, int64_t> lag);
  // The committer's callback: latency histograms, then publish().
  void on_committed(const EpochMeta& committed, std::map<std::string, int64_t> lag,
                    const CommitTiming& timing);
  core::Status close_windows_and_expire(bool final);
  // Tasks (engine_tasks.cc): each task's dedup (ingest thread), join and aggregates (engine
  // thread) over its own keys (state/task_prefix.h); task 0's join and aggregates are the
  // plan's.
  int32_t task_of(const core::PartitionRef& part) const;
  // Engine thread: the task's join and aggregates, built (their state loaded) on first use.
  core::Result<TaskRt> open_task(int32_t task);
  // Engine thread: task_by_part_ for the partitions of parts_ it lacks.
  core::Status route_partitions();
  // Ingest thread (or before it starts): dedup_by_part_ for new partitions.
  void route_ingest_partitions();
  // At start: the state of every task of the committed positions and of the partitions.
  core::Status open_tasks();
  // A state written in the other pipeline.tasks mode cannot be read in this one (its keys
  // are not split by partition): InvalidArgument naming the ways out, unless it is empty.
  core::Status check_task_mode() const;
  // Every task's join: its entries past their expiry, in key order.
  core::Status expire_joins(std::vector<state::Join::Expired>& expired);
  // Every task's join and aggregates into the epoch's batch (dedup: ingest_seal).
  void flush_task_state(state::StateStore::WriteBatch& batch);
  // Window tables shared by the members of a group (engine_windows.cc, shared_windows.h).
  core::Status open_shared_windows();
  // The tasks of the partitions this process reads.
  std::set<int32_t> owned_tasks() const;
  // Whether this process merges and writes the shared window tables (it owns task 0).
  bool shared_windows_writer() const;
  // Puts the owned tasks' partials of the windows closing at `watermark`, and their
  // frontiers, then (the writer) merges the windows every task passed into their tables.
  core::Status close_shared_windows(int64_t watermark, bool close_all,
                                    const state::Aggregates::HeldQuery& held);
  // The writer: merges the windows ready and appends their rows; whether any was.
  core::Result<bool> merge_shared_windows();
  void report_waiting(const std::vector<SharedWindows::Waiting>& waiting);
  core::Status append_window_rows(std::map<std::string, std::vector<core::Row>>& rows);

  // Task hand-off (engine_handoff.cc, SPEC section 9), for members sharing tasks.
  // Opens the checkpoint store's shared root (its tasks/ objects) when shares_tasks.
  core::Status open_task_store();
  // A task checkpoint of every task the committed state holds (its commits landed), each
  // then released from this state (its keys and positions leave: it comes back only through
  // an assignment, task_taker.h, so that this process never commits a task another member
  // took): at start after recovery, before anything is loaded, and at a stop after the last
  // commit. A task whose checkpoint cannot be written stays (logged).
  core::Status hand_over_tasks(const char* when);
  // A task checkpoint of every task the committed state holds, kept here (`release` false:
  // a rebalance's hand-off, Membership::hand_off) or released as hand_over_tasks does.
  core::Status publish_tasks(const char* when, bool release);
  // Engine thread, at a hand-off seal (after its commit): publish_tasks, then the source
  // lets the rebalance go on.
  core::Status finish_hand_off();
  // Engine thread, at a seal: the tasks the rebalance gave to another member leave this
  // state (Membership::released queued them), their join and aggregates emptied.
  core::Status absorb_releases();
  // The source's membership, with Membership::take_partition when tasks are shared.
  connectors::Membership membership(std::vector<std::string> tables);
  // Ingest thread: writes an imported task's state; its metadata waits for the engine thread.
  core::Status import_task_state(const TaskCheckpoint& ck, int64_t tables_epoch);
  // Engine thread, before any record of an imported task is processed: its metadata into
  // meta_ (epoch jump), its join and aggregates loaded again from the store.
  core::Status absorb_imports();
  // Engine thread: the task's join and aggregates built again from the store (if built).
  core::Status reload_task(int32_t task);
  bool reload_task0_ = false;  // task 0 was handed over at start (open_tasks reloads it)
  core::Status drop_orphan_task0();
  struct TaskImport {
    TaskCheckpoint ck;  // without its state keys
    int64_t tables_epoch = 0;
  };
  std::unique_ptr<CheckpointStore> task_store_;                 // null unless shares_tasks
  std::function<std::map<int32_t, std::string>()> held_tasks_;  // set by membership() at open
  std::mutex imports_mu_;
  std::vector<TaskImport> imports_;  // guarded by imports_mu_
  std::atomic<bool> has_imports_{false};
  std::vector<int32_t> releases_;             // guarded by imports_mu_
  std::atomic<bool> hand_off_wanted_{false};  // Membership::hand_off asked, seal not asked yet
  std::set<int32_t> released_;  // engine thread: tasks given away (owned_tasks omits them)

  PipelineConfig cfg_;
  EngineOptions opts_;
  core::Positions end_positions_;
  LockFile lock_;
  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<connectors::Source> source_;
  std::unique_ptr<Plan> plan_;
  std::map<std::string, std::unique_ptr<TableRt>> tables_;
  std::shared_ptr<connectors::objstore::ObjectStore> tables_store_;  // the tables root
  std::unique_ptr<Compactor> compactor_;  // tables.upkeep.auto_compact: started after recover()
  std::unique_ptr<state::TaskDedups> dedups_;  // ingest thread: every task's
  std::vector<state::Dedup*> dedup_by_part_;   // ingest thread: by source partition index
  std::map<int32_t, state::Join*> joins_;      // engine thread: by task (0: plan_->join)
  std::vector<std::unique_ptr<state::Join>> owned_joins_;
  std::unique_ptr<state::TaskAggregates> aggregates_;  // over plan_->aggregates (task 0)
  std::vector<TaskRt> task_by_part_;                   // engine thread: by partition index
  std::unique_ptr<RawArchive> archive_;                // null when no stream is archived
  std::unique_ptr<CheckpointStore> checkpoints_;
  std::unique_ptr<StateWriter> state_writer_;  // over store_
  // Runs the epoch protocol; one commit at a time (commit_thread_ or the engine thread).
  std::unique_ptr<EpochCommitter> committer_;

  std::optional<CheckpointManifest> replay_;  // set while replaying
  int64_t replay_generation_ = 0;
  EpochMeta meta_;  // state as of the last commit plus this epoch's changes
  int64_t epoch_records_ = 0;
  int64_t epoch_started_ = 0;  // steady micros
  int64_t started_at_ = 0;
  // Engine thread: the processing time of the item being processed, read once per item
  // (process()) rather than per record: the join's arrival times and the future bound.
  int64_t item_now_ = 0;
  // The source's partitions as the engine thread knows them (the ingest thread may be
  // polling new ones in): items carry the ones they first saw.
  std::vector<core::PartitionRef> parts_;
  // Tables with rows in the open group of tables.commit_every (engine thread).
  std::set<std::string> group_tables_;
  size_t ingest_parts_seen_ = 0;    // ingest thread: partitions already handed over
  bool ingest_short_poll_ = false;  // ingest thread: the last poll returned less than asked
  core::Row joined_;
  // Thread CPU time spent encoding tables, summed by the ingest, engine and commit threads.
  std::atomic<int64_t> encode_cpu_us_{0};
  // Engine thread: late records staged for the late_records table, built in reused rows
  // (TableRt::kStageRows of them; the first late_count_ are staged).
  std::vector<core::Row> late_rows_;
  size_t late_count_ = 0;
  int64_t skipped_closed_logged_ = 0;  // Aggregates::skipped_closed() already logged
  // Appends the rows staged in the tables this thread writes (ingest side or not).
  core::Status flush_staged(bool ingest_side);
  // The rows this thread stages next live in `item` (the tables the encoder writes).
  void stage_from(bool ingest_side, IngestItem& item);
  // Encodes the streams' tables' staged rows off the ingest and engine threads; null when
  // PINSTREAM_TABLE_ENCODER is "0" (then they encode inline). Created by run().
  std::unique_ptr<TableEncoder> encoder_;
  std::unique_ptr<CommitThread> commit_thread_;  // the sealed epoch being committed
  // Shared mode (shares_tasks) with windowed tables: the members' partials and the writer.
  std::unique_ptr<SharedWindows> shared_windows_;
  int64_t shared_probe_at_ = 0;  // steady micros of the last idle seal of a group's member
  // This seal expired join entries, closed windows or merged shared ones (engine thread).
  bool seal_changed_ = false;
  std::string waiting_logged_;     // the waiting windows last logged
  int64_t waiting_logged_at_ = 0;  // steady micros

  EngineMetrics metrics_;
  mutable std::mutex published_mu_;
  CommittedView published_;
};

}  // namespace pinstream::runtime
