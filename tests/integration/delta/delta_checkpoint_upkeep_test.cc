// Checkpoints off the commit path (connectors/delta/checkpointer.h): written by the handle's
// thread after the commit returns, fewer of them as a table grows (amortised on its size),
// and a writer killed with SIGKILL at any moment (mid-checkpoint included) leaves a table
// that a new handle reads equal to a replay of the whole JSON log.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/log_store.h"
#include "tests/integration/delta/delta_test_util.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;

// `n` add actions naming files that need not exist (the log is what these tests read).
std::vector<AddFile> fake_adds(int64_t version, int n) {
  std::vector<AddFile> out;
  for (int i = 0; i < n; ++i) {
    AddFile a;
    a.path = "part-" + std::to_string(version) + "-" + std::to_string(i) + ".parquet";
    a.size = 100 + i;
    a.modification_time = now_ms();
    a.num_records = 1;
    a.stats_json = R"({"numRecords":1})";
    out.push_back(std::move(a));
  }
  return out;
}

std::set<std::string> active_paths(const Snapshot& s) {
  std::set<std::string> out;
  for (const auto& [path, add] : s.active) out.insert(path);
  return out;
}

// The table as the JSON log alone says it is (every commit from version 0, no checkpoint).
Snapshot json_replay(const std::string& root) {
  Snapshot s;
  for (int64_t v = 0;; ++v) {
    fs::path p = fs::path(root) / commit_key(v);
    if (!fs::exists(p)) break;
    EXPECT_TRUE(s.apply_commit(testing::read_file(p)).is_ok()) << p;
    s.version = v;
  }
  return s;
}

std::set<int64_t> checkpoints_of(const std::string& root) {
  auto store = open_location(root);
  EXPECT_TRUE(store.has_value());
  auto log = list_log(**store);
  EXPECT_TRUE(log.has_value());
  return log.has_value() ? log->checkpoints : std::set<int64_t>();
}

TEST(DeltaCheckpointUpkeep, BackgroundCheckpointsLandAfterTheCommitReturns) {
  testing::TempDir dir;
  std::string root = (dir.path() / "bg").string();
  TableOptions o;
  o.checkpoint_interval = 5;
  o.background_checkpoints = true;
  auto t = DeltaTable::open(root, "bg", pin_schema(), o);
  ASSERT_TRUE(t.has_value());
  for (int64_t e = 1; e <= 10; ++e)
    ASSERT_TRUE((*t)->commit(fake_adds(e, 3), "app", e).has_value());
  (*t)->wait_checkpoints();
  EXPECT_EQ(checkpoints_of(root), (std::set<int64_t>{5, 10}));
  auto store = open_location(root).value();
  EXPECT_EQ(last_checkpoint(*store).value(), std::optional<int64_t>(10));
  auto fresh = DeltaTable::open(root, "bg", pin_schema(), o);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(active_paths(*(*fresh)->latest_snapshot().value()), active_paths(json_replay(root)));
  EXPECT_EQ((*fresh)->latest_snapshot().value()->active.size(), 30u);
}

TEST(DeltaCheckpointUpkeep, LargeTablesCheckpointLessOften) {
  testing::TempDir dir;
  std::string root = (dir.path() / "big").string();
  TableOptions o;  // every 10 versions, and at least rows/64 versions apart
  auto t = DeltaTable::open(root, "big", pin_schema(), o);
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE((*t)->commit(fake_adds(1, 700), "app", 1).has_value());
  for (int64_t e = 2; e <= 40; ++e)
    ASSERT_TRUE((*t)->commit(fake_adds(e, 0), "app", e).has_value());
  // v10 (the first), not v20 (10 versions x 64 < ~705 rows), v30, not v40.
  EXPECT_EQ(checkpoints_of(root), (std::set<int64_t>{10, 30}));
  auto fresh = DeltaTable::open(root, "big", pin_schema(), o);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ((*fresh)->latest_snapshot().value()->active.size(), 700u);
}

// The child: commits 30 files a version (a checkpoint every 2 versions while small, then
// amortised) until it is killed.
[[noreturn]] void commit_forever(const std::string& root) {
  TableOptions o;
  o.checkpoint_interval = 2;
  o.background_checkpoints = true;
  auto t = DeltaTable::open(root, "kill", pin_schema(), o);
  if (!t) _exit(3);
  for (int64_t e = (*t)->known_version() + 1;; ++e)
    if (!(*t)->commit(fake_adds(e, 30), "app", e)) _exit(4);
}

TEST(DeltaCheckpointUpkeep, KillNineAtAnyPointLeavesAReadableTable) {
  testing::TempDir dir;
  std::string root = (dir.path() / "kill").string();
  std::mt19937 rng(12345);
  int64_t reached = 0;
  for (int round = 0; round < 6; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) commit_forever(root);
    const int64_t target = reached + 5 + static_cast<int64_t>(rng() % 40);
    ASSERT_TRUE(testing::wait_until([&] { return fs::exists(fs::path(root) / commit_key(target)); },
                                    std::chrono::seconds(60)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
    // A new handle starts from _last_checkpoint (when there is one) and must see exactly
    // what the JSON log says.
    auto t = DeltaTable::open(root, "kill", pin_schema(), TableOptions());
    ASSERT_TRUE(t.has_value()) << t.error().message();
    const Snapshot* snap = (*t)->latest_snapshot().value();
    Snapshot expected = json_replay(root);
    EXPECT_EQ(snap->version, expected.version);
    EXPECT_EQ(active_paths(*snap), active_paths(expected));
    EXPECT_EQ(snap->txn, expected.txn);
    reached = expected.version;
  }
  EXPECT_FALSE(checkpoints_of(root).empty());
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
