// The state-against-tables comparison (stream/consistency.h) and the tables-root owner file.
#include "stream/consistency.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "stream/tables_owner.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {

EpochMeta state_at(int64_t epoch, int64_t generation,
                   std::map<std::string, int64_t> versions = {}) {
  EpochMeta m;
  m.pipeline_id = "p";
  m.epoch = epoch;
  m.generation = generation;
  m.table_versions = std::move(versions);
  return m;
}

TableFacts table(const std::string& name, int64_t version, std::map<std::string, int64_t> txn) {
  TableFacts t;
  t.name = name;
  t.dir = "/t/" + name;
  t.version = version;
  t.max_commit = version;
  t.txn = std::move(txn);
  return t;
}

CheckpointManifest checkpoint(int64_t epoch, int64_t pin_version) {
  CheckpointManifest m;
  m.id = checkpoint_id(epoch);
  m.epoch = epoch;
  m.table_versions["pin"] = pin_version;
  return m;
}

TEST(Consistency, TablesAtOrBehindTheStateAgree) {
  EpochMeta m = state_at(5, 1);
  // Epoch 5 is the pending one (redone at start); older generations may be far ahead.
  auto tables = {table("pin", 9, {{"pinstream-p-g1", 5}, {"pinstream-p-g0", 40}}),
                 table("geo", 3, {{"pinstream-p-g1", 4}})};
  EXPECT_TRUE(compare_state_and_tables({&m, false, "/s"}, "p", tables).empty());
  EXPECT_TRUE(check_state_against_tables({&m, false, "/s"}, "p", tables, {}, "f.yaml").is_ok());
}

// Epochs without rows for a table make no commit: its txn lags the state's epoch, which is
// fine down to the last epoch that committed rows to it, and not below.
TEST(Consistency, TxnBehindTheEpochIsAcceptedUpToTheLastEpochWithRows) {
  EpochMeta m = state_at(9, 0);
  m.table_epochs = {{"pin", 9}, {"geo", 6}, {"dead_letters", 2}};
  m.pending["pin"] = {"{}"};  // epoch 9's commit of pin: redone at start
  auto tables = {table("pin", 8, {{"pinstream-p-g0", 8}}), table("geo", 6, {{"pinstream-p-g0", 6}}),
                 table("dead_letters", 2, {{"pinstream-p-g0", 2}}), table("late", 0, {})};
  EXPECT_TRUE(compare_state_and_tables({&m, false, "/s"}, "p", tables).empty());
}

TEST(Consistency, LostCommitOfTheLastEpochWithRowsIsRefused) {
  EpochMeta m = state_at(9, 0);
  m.table_epochs = {{"geo", 6}};
  auto problems =
      compare_state_and_tables({&m, false, "/s"}, "p", {table("geo", 5, {{"pinstream-p-g0", 5}})});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("table geo: the state recorded rows committed by epoch 6"),
            std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find("only epoch 5"), std::string::npos) << problems[0];
  // Not pending any more (epoch 9 is the last): no redo would bring it back.
  problems = compare_state_and_tables({&m, false, "/s"}, "p", {table("geo", 0, {})});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("holds no epoch"), std::string::npos) << problems[0];
}

TEST(Consistency, TableAheadOfTheStateIsRefusedWithTheReplayThatRepairsIt) {
  EpochMeta m = state_at(5, 0);
  std::vector<TableFacts> tables = {table("pin", 9, {{"pinstream-p-g0", 7}})};
  std::vector<CheckpointManifest> cps = {checkpoint(2, 4), checkpoint(4, 6), checkpoint(8, 10)};
  core::Status st = check_state_against_tables({&m, false, "/s"}, "p", tables, cps, "f.yaml");
  EXPECT_EQ(st.code(), core::StatusCode::kCorruption);
  EXPECT_EQ(st.message(),
            "state and tables disagree: table pin holds epoch 7 (txn pinstream-p-g0) but the "
            "state's last committed "
            "epoch is 5: the state was rolled back (write-ahead log lost or damaged?); repair "
            "with: pinstream replay "
            "--config f.yaml --from-checkpoint 00000004");
}

TEST(Consistency, EmptyStateWhileTablesHoldOurCommitsIsRefused) {
  EpochMeta m = state_at(0, 0);
  auto problems =
      compare_state_and_tables({&m, true, "/s"}, "p", {table("pin", 3, {{"pinstream-p-g2", 3}})});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("the state in /s is empty"), std::string::npos) << problems[0];
  // Another pipeline's commits are not ours to judge.
  EXPECT_TRUE(
      compare_state_and_tables({&m, true, "/s"}, "p", {table("pin", 3, {{"pinstream-q-g0", 3}})})
          .empty());
}

// Scale-out (SPEC section 9): members of a `tasks: partitions` group share the tables; a
// task's txn that the state holds no position for is another member's. Without
// `shared_tasks` (one process, files or Kafka `tasks: single`) it is still refused.
TEST(Consistency, OtherMembersTasksAreNotComparedWhenTasksAreShared) {
  EpochMeta m = state_at(3, 0);
  m.tasks = TaskMode::kPartitions;
  m.positions = {{"t.pin/0", "1"}};
  m.table_epochs = {{"pin", 3}};
  auto tables = {table("pin", 9, {{"pinstream-p-p0", 3}, {"pinstream-p-p1", 12}})};
  StateFacts shared{&m, false, "/s", true};
  EXPECT_TRUE(compare_state_and_tables(shared, "p", tables).empty());
  auto alone = compare_state_and_tables({&m, false, "/s"}, "p", tables);
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_NE(alone[0].find("holds epoch 12 (txn pinstream-p-p1)"), std::string::npos) << alone[0];
  // Our own task ahead of the state is still a rollback, and its lost commit still lost.
  auto ahead = compare_state_and_tables(
      shared, "p", {table("pin", 9, {{"pinstream-p-p0", 5}, {"pinstream-p-p1", 12}})});
  ASSERT_EQ(ahead.size(), 1u);
  EXPECT_NE(ahead[0].find("txn pinstream-p-p0"), std::string::npos) << ahead[0];
  auto lost = compare_state_and_tables(
      shared, "p", {table("pin", 9, {{"pinstream-p-p0", 2}, {"pinstream-p-p1", 12}})});
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_NE(lost[0].find("txn pinstream-p-p0 holds only epoch 2"), std::string::npos) << lost[0];
  // A new member (empty state) starts beside the others; its tasks are checked when assigned.
  EpochMeta fresh = state_at(0, 0);
  EXPECT_TRUE(compare_state_and_tables({&fresh, true, "/s", true}, "p", tables).empty());
  EXPECT_EQ(compare_state_and_tables({&fresh, true, "/s"}, "p", tables).size(), 2u);
}

// Task hand-off: a member whose every task moved away (published and released) keeps its
// epoch and the tables it wrote, whose txns are the other members' now.
TEST(Consistency, AStateWhoseTasksAllMovedAwayComparesNoTxn) {
  EpochMeta m = state_at(7, 0);
  m.tasks = TaskMode::kPartitions;
  m.table_epochs = {{"pin", 7}};
  auto tables = {table("pin", 9, {{"pinstream-p-p0", 12}, {"pinstream-p-p1", 3}})};
  EXPECT_TRUE(compare_state_and_tables({&m, false, "/s", true}, "p", tables).empty());
  EXPECT_FALSE(compare_state_and_tables({&m, false, "/s"}, "p", tables).empty());
}

TEST(Consistency, NewerGenerationInATableIsRefused) {
  EpochMeta m = state_at(50, 1);
  auto problems =
      compare_state_and_tables({&m, false, "/s"}, "p", {table("pin", 3, {{"pinstream-p-g2", 1}})});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("holds generation 2"), std::string::npos) << problems[0];
}

// In `partitions` mode each commit carries one txn per task; a restart may switch
// pipeline.tasks either way: a commit's txns land together, so the newest txn of the
// state's generation, in either form, is the table's epoch.
TEST(Consistency, PerTaskTxnsAndAModeSwitchCompareAsOneEpoch) {
  EpochMeta m = state_at(9, 0);
  m.tasks = TaskMode::kPartitions;
  m.positions = {{"t.pin/0", "1"}, {"t.pin/1", "1"}};
  m.table_epochs = {{"pin", 8}, {"geo", 6}};
  // pin: written per task; geo: last written in single mode before the switch.
  auto tables = {table("pin", 8, {{"pinstream-p-p0", 8}, {"pinstream-p-p1", 8}}),
                 table("geo", 6, {{"pinstream-p-g0", 6}})};
  EXPECT_TRUE(compare_state_and_tables({&m, false, "/s"}, "p", tables).empty());
  // A task's txn ahead of the state is a rollback, named with that task's appId.
  auto ahead = compare_state_and_tables(
      {&m, false, "/s"}, "p", {table("pin", 9, {{"pinstream-p-p0", 8}, {"pinstream-p-p1", 12}})});
  ASSERT_EQ(ahead.size(), 1u);
  EXPECT_NE(ahead[0].find("table pin holds epoch 12 (txn pinstream-p-p1)"), std::string::npos)
      << ahead[0];
  // Lost: the newest txn of this generation (either form) is older than the last rows.
  auto lost = compare_state_and_tables(
      {&m, false, "/s"}, "p", {table("geo", 5, {{"pinstream-p-p0", 5}, {"pinstream-p-g0", 4}})});
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_NE(lost[0].find("txn pinstream-p-p0 holds only epoch 5"), std::string::npos) << lost[0];
  // Per-task appIds of a newer generation are refused as single-mode ones are.
  auto newer = compare_state_and_tables({&m, false, "/s"}, "p",
                                        {table("late", 3, {{"pinstream-p-p0-g1", 1}})});
  ASSERT_EQ(newer.size(), 1u);
  EXPECT_NE(newer[0].find("holds generation 1"), std::string::npos) << newer[0];
}

TEST(Consistency, LogEndingBeforeTheRecordedVersionNamesTheMissingCommit) {
  EpochMeta m = state_at(5, 0, {{"pin", 4}});
  auto problems = compare_state_and_tables({&m, false, "/s"}, "p", {table("pin", 2, {})});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "table pin: its log ends at version 2 but the state recorded version 4 (Delta commit "
            "/t/pin/_delta_log/00000000000000000003.json is missing)");
}

TEST(Consistency, GapInTheLogIsRefusedNamingTheFileWithoutAReplay) {
  EpochMeta m = state_at(5, 0);
  TableFacts t = table("pin", 2, {});
  t.max_commit = 6;
  core::Status st =
      check_state_against_tables({&m, false, "/s"}, "p", {t}, {checkpoint(0, 0)}, "f.yaml");
  EXPECT_EQ(st.message(),
            "table pin: Delta commit /t/pin/_delta_log/00000000000000000003.json is missing while "
            "version 6 exists; restore that file from a backup");
}

TEST(Consistency, NoCheckpointOlderThanTheTablesSaysSo) {
  std::vector<TableFacts> tables = {table("pin", 1, {})};
  EXPECT_EQ(repair_checkpoint({checkpoint(4, 6)}, tables), "");
  EXPECT_NE(repair_hint({checkpoint(4, 6)}, tables, "f.yaml").find("no kept checkpoint"),
            std::string::npos);
}

TEST(Consistency, RestoredCheckpointMustMatchItsManifest) {
  CheckpointManifest m = checkpoint(6, 3);
  EpochMeta ok = state_at(6, 0), old = state_at(2, 0);
  EXPECT_TRUE(check_restored_checkpoint(m, &ok).is_ok());
  EXPECT_EQ(check_restored_checkpoint(m, &old).message(),
            "checkpoint 00000006 is damaged: its state holds epoch 2 generation 0, its manifest "
            "says epoch 6 generation 0");
  EXPECT_FALSE(check_restored_checkpoint(m, nullptr).is_ok());
  EXPECT_TRUE(check_restored_checkpoint(checkpoint(0, 0), nullptr).is_ok());  // the empty state
  ok.counters["pin"].read = 3;
  EXPECT_FALSE(check_restored_checkpoint(m, &ok).is_ok());
}

TEST(TablesOwner, SameDataDirIsTheSameOwnerAnotherIsRefused) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  ASSERT_TRUE(claim_tables_root(root, (dir.path() / "a").string()).is_ok());
  EXPECT_TRUE(claim_tables_root(root, (dir.path() / "a").string()).is_ok());
  core::Status st = claim_tables_root(root, (dir.path() / "b").string());
  EXPECT_EQ(st.code(), core::StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("delete " + root + "/_pinstream_owner to take over"),
            std::string::npos)
      << st.message();
  // Taking over: the file deleted, the next writer owns the root.
  std::filesystem::remove(root + "/_pinstream_owner");
  EXPECT_TRUE(claim_tables_root(root, (dir.path() / "b").string()).is_ok());
  EXPECT_FALSE(claim_tables_root(root, (dir.path() / "a").string()).is_ok());
}

TEST(TablesOwner, MembersOfAPartitionsPipelineShareTheRootASingleWriterCannotTakeIt) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  // A data dir that owned the root alone may turn it into the members' root.
  ASSERT_TRUE(claim_tables_root(root, (dir.path() / "a").string()).is_ok());
  ASSERT_TRUE(claim_tables_root(root, (dir.path() / "a").string(), "p").is_ok());
  EXPECT_TRUE(claim_tables_root(root, (dir.path() / "b").string(), "p").is_ok());
  EXPECT_EQ(testing::read_file(root + "/_pinstream_owner"), shared_tables_owner("p") + "\n");
  core::Status single = claim_tables_root(root, (dir.path() / "c").string());
  EXPECT_EQ(single.code(), core::StatusCode::kAlreadyExists);
  EXPECT_NE(single.message().find("shared by the members of pipeline p"), std::string::npos)
      << single.message();
  EXPECT_FALSE(claim_tables_root(root, (dir.path() / "c").string(), "q").is_ok());
  // A root another single writer owns stays its own.
  const std::string other = (dir.path() / "other").string();
  ASSERT_TRUE(claim_tables_root(other, (dir.path() / "a").string()).is_ok());
  EXPECT_EQ(claim_tables_root(other, (dir.path() / "b").string(), "p").code(),
            core::StatusCode::kAlreadyExists);
}

TEST(TablesOwner, TablesInsideAMovedDataDirFollowIt) {
  testing::TempDir dir;
  ASSERT_TRUE(
      claim_tables_root((dir.path() / "a/tables").string(), (dir.path() / "a").string()).is_ok());
  std::filesystem::rename(dir.path() / "a", dir.path() / "b");
  EXPECT_TRUE(
      claim_tables_root((dir.path() / "b/tables").string(), (dir.path() / "b").string()).is_ok());
  // Still refused for a writer whose data dir is elsewhere.
  EXPECT_FALSE(
      claim_tables_root((dir.path() / "b/tables").string(), (dir.path() / "c").string()).is_ok());
}

TEST(TablesOwner, EmptyOwnerFileIsTakenOver) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  std::filesystem::create_directories(root);
  testing::write_file(root + "/_pinstream_owner", "");
  EXPECT_TRUE(claim_tables_root(root, (dir.path() / "a").string()).is_ok());
  EXPECT_NE(testing::read_file(root + "/_pinstream_owner")
                .find(tables_owner_id((dir.path() / "a").string())),
            std::string::npos);
}

}  // namespace
}  // namespace pinstream::runtime
