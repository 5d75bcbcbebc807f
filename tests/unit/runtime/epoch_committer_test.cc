// The epoch protocol against fakes (epoch_committer_fakes.h): the order of its steps, and a
// crash injected at each step followed by a restart (a new committer over the same tables
// and state) that must end exactly as a clean run: every table commit once, txn versions
// equal to the epochs with rows, no commit for a table without rows.
#include "stream/epoch_committer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "stream/commit_thread.h"
#include "tests/support/test_support.h"
#include "tests/unit/runtime/epoch_committer_fakes.h"

namespace pinstream::runtime {
namespace {
using fakes::Events;
using fakes::FakeFiles;
using fakes::FakeState;
using fakes::FakeTable;

// Rows per table per epoch: `geo` has none in epoch 2 (its files exist but are empty), and
// `dead` none in epochs 1 and 2 (no files at all).
const std::vector<std::map<std::string, int64_t>> kEpochs = {
    {{"pin", 2}, {"geo", 1}},
    {{"pin", 1}, {"geo", 0}},
    {{"pin", 3}, {"geo", 2}, {"dead", 1}},
    {{"pin", 1}, {"geo", 1}},
};

enum class Fault {
  kNone,
  kFilesOfOneTable,        // epoch 2: before the state write
  kStateWrite,             // epoch 2: the commit point itself
  kFirstTableCommit,       // epoch 2: after the state write, before any table commit
  kBetweenTables,          // epoch 3: `dead` landed, `geo` failed, `pin` not tried
  kCommitLandedThenCrash,  // epoch 2: `pin`'s commit is in its log, the caller saw a crash
  kCheckpoint,             // epoch 2: every table committed, the checkpoint failed
};

// The tasks whose partitions an epoch (by index) has read in `partitions` mode: task 5
// appears in epoch 3 (a partition found later), so its txn is absent from older commits.
const std::vector<std::vector<std::string>> kTaskPartitions = {
    {"t.pin/0", "t.geo/3"},
    {"t.pin/0", "t.geo/3", "t.user/3"},
    {"t.pin/0", "t.geo/3", "t.pin/5"},
    {"t.pin/0", "t.geo/3", "t.pin/5"},
};

// The txn appIds of the commit of epoch `epoch` (1-based) in `mode`.
std::vector<std::string> app_ids_of(TaskMode mode, int64_t epoch) {
  if (mode == TaskMode::kSingle) return {"pinstream-p-g0"};
  if (epoch < 3) return {"pinstream-p-p0", "pinstream-p-p3"};
  return {"pinstream-p-p0", "pinstream-p-p3", "pinstream-p-p5"};
}

struct World {
  explicit World(bool in_parallel, TaskMode task_mode = TaskMode::kSingle)
      : parallel(in_parallel), mode(task_mode) {
    for (const char* n : {"dead", "geo", "pin"}) tables[n] = std::make_unique<FakeTable>(n, events);
    auto cs = CheckpointStore::open((dir / "checkpoints").string(), (dir / "scratch").string());
    EXPECT_TRUE(cs.has_value());
    checkpoints = std::move(*cs);
  }
  std::unique_ptr<EpochCommitter> committer() {
    EpochCommitter::Options o;
    o.parallel_tables = parallel;
    o.checkpoint_every_epochs = checkpoint_every;
    o.commit_every = commit_every;
    o.clock = &clock;
    std::map<std::string, TableSink*> sinks;
    for (auto& [n, t] : tables) sinks[n] = t.get();
    return std::make_unique<EpochCommitter>(
        o, state, sinks, checkpoints.get(),
        [this](const EpochMeta& m, std::map<std::string, int64_t>, const CommitTiming& t) {
          published.push_back(m.epoch);
          timings.push_back(t);
        });
  }
  // The engine's seal: the previous epoch's metadata moved on by one epoch.
  SealedEpoch seal(const EpochMeta& prev, size_t index, bool fail_geo = false) {
    SealedEpoch s;
    s.meta = prev;
    s.meta.epoch++;
    s.meta.pending.clear();
    s.meta.tasks = mode;
    if (mode == TaskMode::kSingle) {
      s.meta.positions["part-0"] = std::to_string(s.meta.epoch * 100);
    } else {
      for (const auto& part : kTaskPartitions[index])
        s.meta.positions[part] = std::to_string(s.meta.epoch * 100);
    }
    for (const auto& [table, rows] : kEpochs[index]) {
      s.meta.counters["stream"].read += rows;
      s.meta.counters["stream"].clean += rows;
      s.files[table] = std::make_unique<FakeFiles>(table, s.meta.epoch, rows, events,
                                                   fail_geo && table == "geo");
    }
    s.started_micros = clock.steady_micros();
    s.final = index + 1 == kEpochs.size();
    return s;
  }

  pinstream::testing::TempDir dir{"epoch-committer"};
  bool parallel;
  TaskMode mode;
  int64_t checkpoint_every = 2, commit_every = 1;
  Events events;
  core::ManualClock clock{1'000'000};
  FakeState state{events};
  std::map<std::string, std::unique_ptr<FakeTable>> tables;
  std::unique_ptr<CheckpointStore> checkpoints;
  std::vector<int64_t> published;
  std::vector<CommitTiming> timings;
};

// Runs every epoch of kEpochs; at the fault, "crashes" (drops the committer) and restarts as
// the engine does: a new committer redoes what the state records as pending, and the
// epochs after the state's one are sealed again from the sources.
void run(World& w, Fault fault) {
  if (fault == Fault::kStateWrite) w.state.fail_write_of_epoch = 2;
  if (fault == Fault::kFirstTableCommit) w.tables["pin"]->fail_before_txn = 2;  // the only one
  if (fault == Fault::kBetweenTables) w.tables["geo"]->fail_before_txn = 3;
  if (fault == Fault::kCommitLandedThenCrash) w.tables["pin"]->fail_after_txn = 2;
  if (fault == Fault::kCheckpoint) w.state.fail_checkpoint_of_epoch = 2;
  bool fail_files = fault == Fault::kFilesOfOneTable;
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  int crashes = 0;
  while (static_cast<size_t>(meta.epoch) < kEpochs.size()) {
    const auto index = static_cast<size_t>(meta.epoch);
    SealedEpoch sealed = w.seal(meta, index, fail_files && meta.epoch + 1 == 2);
    core::Status st = committer->commit(sealed);
    if (st.is_ok()) {
      meta = sealed.meta;
      continue;
    }
    ++crashes;
    fail_files = false;
    committer = w.committer();  // a restart
    EpochMeta durable;
    durable.pipeline_id = "p";
    if (w.state.durable) {
      durable = *w.state.durable;
      ASSERT_TRUE(committer->redo(durable).is_ok());
    }
    durable.pending.clear();
    meta = durable;
  }
  EXPECT_EQ(crashes, fault == Fault::kNone ? 0 : 1);
}

class EpochCommitterCrash : public ::testing::TestWithParam<std::tuple<Fault, bool, TaskMode>> {};

// In `partitions` mode each commit carries one txn per task, all of them in one commit.
TEST_P(EpochCommitterCrash, RestartEndsEqualToACleanRun) {
  auto [fault, parallel, mode] = GetParam();
  World clean(parallel, mode), crashed(parallel, mode);
  run(clean, Fault::kNone);
  run(crashed, fault);
  for (const auto& [name, t] : crashed.tables) {
    SCOPED_TRACE(name);
    EXPECT_EQ(t->log, clean.tables[name]->log);
    // Exactly one commit per epoch with rows, in epoch order, with that epoch as txn.
    std::vector<int64_t> want, got;
    for (size_t i = 0; i < kEpochs.size(); ++i) {
      auto it = kEpochs[i].find(name);
      if (it != kEpochs[i].end() && it->second > 0) want.push_back(static_cast<int64_t>(i + 1));
    }
    for (const auto& c : t->log) {
      EXPECT_EQ(c.app_ids, app_ids_of(mode, c.txn));
      got.push_back(c.txn);
    }
    EXPECT_EQ(got, want);
  }
  ASSERT_TRUE(crashed.state.durable.has_value());
  EXPECT_EQ(crashed.state.durable->to_json(), clean.state.durable->to_json());
  EXPECT_EQ(crashed.state.durable->epoch, 4);
  // The last epoch's checkpoint is kept either way.
  EXPECT_TRUE(crashed.checkpoints->has(checkpoint_id(4)));
}

std::string fault_name(const ::testing::TestParamInfo<std::tuple<Fault, bool, TaskMode>>& p) {
  static const char* kNames[] = {
      "None",          "FilesOfOneTable",       "StateWrite", "FirstTableCommit",
      "BetweenTables", "CommitLandedThenCrash", "Checkpoint"};
  return std::string(kNames[static_cast<int>(std::get<0>(p.param))]) +
         (std::get<1>(p.param) ? "_Parallel" : "_Serial") +
         (std::get<2>(p.param) == TaskMode::kPartitions ? "_Tasks" : "");
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, EpochCommitterCrash,
    ::testing::Combine(::testing::Values(Fault::kFilesOfOneTable, Fault::kStateWrite,
                                         Fault::kFirstTableCommit, Fault::kBetweenTables,
                                         Fault::kCommitLandedThenCrash, Fault::kCheckpoint),
                       ::testing::Bool(),
                       ::testing::Values(TaskMode::kSingle, TaskMode::kPartitions)),
    fault_name);

TEST(EpochCommitter, FilesAreDurableBeforeTheStateWriteAndTablesCommitAfterIt) {
  World w(false);
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  SealedEpoch s = w.seal(meta, 0);
  ASSERT_TRUE(committer->commit(s).is_ok());
  EXPECT_EQ(w.events.seen, (std::vector<std::string>{"finish:geo", "finish:pin", "state:1",
                                                     "commit:geo:1", "commit:pin:1"}));
  // The state write lists exactly the commits still to make.
  ASSERT_TRUE(w.state.durable.has_value());
  EXPECT_EQ(w.state.durable->pending.size(), 2u);
  EXPECT_EQ(w.published, std::vector<int64_t>{1});
}

TEST(EpochCommitter, ATableWithoutRowsGetsNoCommitAndIsNotPending) {
  World w(false);
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  SealedEpoch first = w.seal(meta, 0);
  ASSERT_TRUE(committer->commit(first).is_ok());
  SealedEpoch second = w.seal(first.meta, 1);  // geo: empty files
  ASSERT_TRUE(committer->commit(second).is_ok());
  EXPECT_EQ(w.state.durable->pending.count("geo"), 0u);
  EXPECT_EQ(w.tables["geo"]->log.size(), 1u);
  EXPECT_EQ(w.tables["pin"]->log.size(), 2u);
  // Epoch 2 is due for a checkpoint (every 2): it records each table's version.
  auto m = w.checkpoints->find(checkpoint_id(2));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->table_versions.at("geo"), 0);
  EXPECT_EQ(m->table_versions.at("pin"), 1);
  EXPECT_EQ(m->table_versions.at("dead"), -1);
}

// tables.commit_every: epochs 1-4 of kEpochs committed as one group (txn 4), with a crash
// after epoch `crash_after`'s state write (0: none); `fail_group_commit`: pin's commit of the
// group fails after the state write that lists it as pending.
void run_grouped(World& w, int64_t crash_after, bool fail_group_commit) {
  w.commit_every = 4;
  w.checkpoint_every = 10;
  if (fail_group_commit) w.tables["pin"]->fail_before_txn = 4;
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  while (static_cast<size_t>(meta.epoch) < kEpochs.size()) {
    SealedEpoch sealed = w.seal(meta, static_cast<size_t>(meta.epoch));
    sealed.flush = committer->due(sealed.meta.epoch, sealed.final);
    core::Status st = committer->commit(sealed);
    const bool crash = !st.is_ok() || sealed.meta.epoch == crash_after;
    if (!crash) {
      meta = sealed.meta;
      continue;
    }
    crash_after = 0;
    committer = w.committer();  // a restart: redo what is pending, resume the open group
    ASSERT_TRUE(w.state.durable.has_value());
    meta = *w.state.durable;
    ASSERT_TRUE(committer->redo(meta).is_ok());
    committer->resume_group(meta.group);
    meta.pending.clear();
  }
}

TEST(EpochCommitter, CommitEveryGroupsEpochsIntoOneCommitPerTableWithTheLastEpochAsTxn) {
  World w(false);
  run_grouped(w, 0, false);
  for (const char* name : {"pin", "geo", "dead"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(w.tables[name]->log.size(), 1u);
    EXPECT_EQ(w.tables[name]->log[0].txn, 4);
  }
  // Every file of the group, in epoch order; geo's empty epoch 2 adds nothing.
  EXPECT_EQ(w.tables["pin"]->log[0].adds.size(), 4u);
  EXPECT_EQ(w.tables["geo"]->log[0].adds.size(), 3u);
  EXPECT_NE(w.tables["pin"]->log[0].adds[0].find("pin-1."), std::string::npos);
  EXPECT_NE(w.tables["pin"]->log[0].adds[3].find("pin-4."), std::string::npos);
  EXPECT_TRUE(w.state.durable->group.empty());
  EXPECT_TRUE(w.state.durable->pending.count("pin"));
}

TEST(EpochCommitter, CommitEveryACrashInsideOrAtTheEndOfAGroupEndsEqualToACleanRun) {
  World clean(false);
  run_grouped(clean, 0, false);
  for (int64_t crash_after : {1, 2, 3}) {
    World crashed(false);
    run_grouped(crashed, crash_after, false);
    for (const auto& [name, t] : crashed.tables)
      EXPECT_EQ(t->log, clean.tables[name]->log) << name << " crash after " << crash_after;
  }
  World failed(false);
  run_grouped(failed, 0, true);
  for (const auto& [name, t] : failed.tables) EXPECT_EQ(t->log, clean.tables[name]->log) << name;
}

TEST(EpochCommitter, CommitEveryStillCommitsEveryCheckpointEpoch) {
  World w(false);
  w.commit_every = 3;
  auto committer = w.committer();
  EXPECT_FALSE(committer->due(1, false));
  EXPECT_TRUE(committer->due(2, false));  // a checkpoint every 2 epochs
  EXPECT_TRUE(committer->due(3, false));
  EXPECT_TRUE(committer->due(5, true));  // the last epoch
  EXPECT_FALSE(committer->due(7, false));
}

TEST(EpochCommitter, RedoSkipsATableThatHoldsTheEpochAndCommitsTheOthers) {
  World w(false);
  EpochMeta meta;
  meta.pipeline_id = "p";
  meta.epoch = 7;
  meta.pending["pin"] = {R"({"path":"a"})"};
  meta.pending["geo"] = {R"({"path":"b"})"};
  meta.pending["gone"] = {R"({"path":"c"})"};  // not configured any more: skipped
  ASSERT_TRUE(w.tables["pin"]->commit({R"({"path":"a"})"}, {meta.app_id()}, 7).has_value());
  auto committer = w.committer();
  ASSERT_TRUE(committer->redo(meta).is_ok());
  ASSERT_TRUE(committer->redo(meta).is_ok());  // twice: still once each
  EXPECT_EQ(w.tables["pin"]->log.size(), 1u);
  ASSERT_EQ(w.tables["geo"]->log.size(), 1u);
  EXPECT_EQ(w.tables["geo"]->log[0].txn, 7);
  EXPECT_TRUE(w.tables["dead"]->log.empty());
}

// A restart may switch pipeline.tasks: the last epoch is redone with the appIds it was
// sealed with (its single-mode txn, found landed on pin), the next epochs use the new ones.
TEST(EpochCommitter, RedoUsesTheModeTheEpochWasSealedWith) {
  World w(false, TaskMode::kPartitions);
  EpochMeta meta;
  meta.pipeline_id = "p";
  meta.epoch = 1;
  meta.positions = {{"t.pin/0", "1"}, {"t.geo/3", "1"}};
  meta.pending["pin"] = {R"({"path":"a"})"};
  meta.pending["geo"] = {R"({"path":"b"})"};
  ASSERT_TRUE(w.tables["pin"]->commit({R"({"path":"a"})"}, {"pinstream-p-g0"}, 1).has_value());
  auto committer = w.committer();
  ASSERT_TRUE(committer->redo(meta).is_ok());
  ASSERT_EQ(w.tables["pin"]->log.size(), 1u);
  ASSERT_EQ(w.tables["geo"]->log.size(), 1u);
  EXPECT_EQ(w.tables["geo"]->log[0].app_ids, std::vector<std::string>{"pinstream-p-g0"});
  meta.pending.clear();
  SealedEpoch next = w.seal(meta, 1);  // sealed in partitions mode
  ASSERT_TRUE(committer->commit(next).is_ok());
  EXPECT_EQ(w.tables["pin"]->log.back().app_ids, app_ids_of(TaskMode::kPartitions, 2));
  EXPECT_EQ(w.tables["pin"]->log.back().txn, 2);
}

TEST(EpochCommitter, CrashDuringACheckpointLeavesNoCheckpointVisible) {
  World w(false);
  w.state.fail_checkpoint_of_epoch = 2;
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  SealedEpoch first = w.seal(meta, 0);
  ASSERT_TRUE(committer->commit(first).is_ok());
  SealedEpoch second = w.seal(first.meta, 1);
  EXPECT_FALSE(committer->commit(second).is_ok());
  EXPECT_FALSE(w.checkpoints->has(checkpoint_id(2)));
  auto all = w.checkpoints->list();
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
}

TEST(EpochCommitter, ReportsTimingsFromItsClock) {
  World w(false);
  auto committer = w.committer();
  EpochMeta meta;
  meta.pipeline_id = "p";
  SealedEpoch s = w.seal(meta, 0);
  s.started_micros = w.clock.steady_micros() - 250'000;  // the epoch began 250 ms ago
  s.seal_micros = 4'000;
  ASSERT_TRUE(committer->commit(s).is_ok());
  ASSERT_EQ(w.timings.size(), 1u);
  EXPECT_DOUBLE_EQ(w.timings[0].epoch_ms, 250.0);  // the manual clock did not move
  EXPECT_DOUBLE_EQ(w.timings[0].commit_ms, 4.0);
}

TEST(CommitThread, HandsTheCommittedPositionsToTheIngestThreadOnceAndOnlyOnSuccess) {
  World w(false);
  auto committer = w.committer();
  CommitThread thread(*committer);
  EXPECT_TRUE(thread.wait().is_ok());  // nothing in flight
  EpochMeta meta;
  meta.pipeline_id = "p";
  auto first = std::make_shared<SealedEpoch>(w.seal(meta, 0));
  const EpochMeta first_meta = first->meta;
  thread.start(first);
  ASSERT_TRUE(thread.wait().is_ok());
  auto positions = thread.take_committed_positions();
  ASSERT_TRUE(positions.has_value());
  EXPECT_EQ(positions->at("part-0"), "100");
  EXPECT_FALSE(thread.take_committed_positions().has_value());  // handed over once
  w.state.fail_write_of_epoch = 2;
  thread.start(std::make_shared<SealedEpoch>(w.seal(first_meta, 1)));
  EXPECT_FALSE(thread.wait().is_ok());
  EXPECT_FALSE(thread.take_committed_positions().has_value());  // not committed: not handed
}

}  // namespace
}  // namespace pinstream::runtime
