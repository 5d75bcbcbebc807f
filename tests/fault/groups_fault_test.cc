// Scale-out members (SPEC section 9, issue 17) as real runs of the built binary against the
// dev broker: two `tasks: partitions` members of one consumer group over one shared tables
// root write every record once, also when one joins mid-run (the tasks it is given are handed
// over); the tables then equal a clean run's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/fault/group_members.h"
#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const ComparedTable kWindows = {"category_count_by_hour", "*",
                                " WHERE window_start < TIMESTAMP '2023-01-01'"};

class GroupsFault : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string yaml = group_pipeline_yaml();
    auto replace = [&yaml](const std::string& from, const std::string& to) {
      edit_yaml(yaml, from, to);
    };
    // The members share one checkpoint store (the window partials): no periodic checkpoints
    // there (each member's whole-state checkpoints would share its ids), and parts of
    // malformed posts release their windows after 3 s instead of 7 days.
    replace("checkpoint_every_epochs: 10", "checkpoint_every_epochs: 1000000");
    replace("expire_after_ms: 604800000", "expire_after_ms: 3000");
    // Windows of 365 days and 2 years of lateness: the dataset's five years of random
    // timestamps put many posts of one category in one window, from every partition, so
    // that a window's rows need every member's tasks.
    replace("window: {tumbling_ms: 3600000}", "window: {tumbling_ms: 31536000000}");
    replace("allowed_lateness_ms: 600000", "allowed_lateness_ms: 63072000000");
    write_file(config, yaml);
    const std::string servers = start_dev_broker(broker, id, 4, dir.path());
    ASSERT_FALSE(servers.empty()) << read_file(dir / "broker.log.err");
    base = "PINSTREAM_ID=" + id + " PINSTREAM_KAFKA=" + servers + " ";
  }

  void emulate(int count, int seed, const std::string& extra = "--malformed-rate 0.05") {
    emulate_into_kafka(base, config, count, seed, extra);
  }

  // A member: its own data directory, the shared tables root and checkpoint store.
  std::string member(const std::string& name) const {
    return base + "TEST_GROUP=" + id + "-g PINSTREAM_DATA='" + (dir / name).string() +
           "' PINSTREAM_TABLES='" + shared.string() + "' PINSTREAM_CHECKPOINTS='" +
           checkpoints.string() + "' ";
  }
  pid_t spawn_member(const std::string& name, const std::string& args = "run") const {
    // Its state directory exists: a new member does not take the newest checkpoint of the
    // shared store (another member's) for its own lost state.
    fs::create_directories(dir / name / "state");
    return spawn_shell("env " + member(name) + pinstream_binary().string() + " " + args +
                           " --config '" + config.string() + "'",
                       dir / (name + ".log"));
  }
  // The member's checkpoint 0 (every new data directory keeps one) is in the shared store,
  // under members/<its instance id>/: it has started.
  void wait_first_checkpoint(const std::string& name) const {
    auto kept = [&] {
      std::error_code ec;
      for (const auto& m : fs::directory_iterator(checkpoints / "members", ec))
        if (fs::exists(m.path() / "00000000/manifest.json")) return true;
      return false;
    };
    ASSERT_TRUE(wait_until(kept, 30s)) << read_file(dir / (name + ".log.err"));
  }

  // One process alone in its own group, data directory and tables (the reference).
  void clean_run() {
    std::string out;
    ASSERT_EQ(
        run_command(base + "TEST_GROUP=" + id + "-clean PINSTREAM_DATA='" +
                        (dir / "clean").string() + "' timeout 120 " + pinstream_binary().string() +
                        " run --until-idle --config '" + config.string() + "'",
                    &out),
        0)
        << out;
  }

  std::vector<ComparedTable> compared(bool windows) const {
    std::vector<ComparedTable> out = record_tables();
    if (windows) out.push_back(kWindows);
    return out;
  }

  bool shared_equals_clean(bool windows = false) const {
    return tables_equal(shared, dir / "clean/tables", compared(windows));
  }

  void expect_shared_equals_clean(bool windows = false) const {
    expect_tables_equal(shared, dir / "clean/tables", compared(windows));
    if (windows) {
      EXPECT_NE(table_rows(shared / kWindows.table, "*", kWindows.where), "[]");
    }
  }

  // The member's state agrees with the shared tables (the other's tasks are not its own).
  // Its checkpoints are not compared: the shared store holds the other member's too.
  void expect_verified(const std::string& m) const {
    std::string out;
    EXPECT_EQ(
        run_command("env " + member(m) + "PINSTREAM_CHECKPOINTS= " + pinstream_binary().string() +
                        " verify --config '" + config.string() + "'",
                    &out),
        0)
        << m << ": " << out;
  }

  TempDir dir{"ps-fault-groups"};
  const std::string id = unique_name("grp");
  const fs::path config = dir / "pipeline.yaml";
  const fs::path shared = dir / "shared-tables";
  const fs::path checkpoints = dir / "shared-checkpoints";
  std::string base;
  Reaper broker;
};

TEST_F(GroupsFault, TwoMembersOverOneTablesRootWriteEveryRecordOnce) {
  Reaper a, b;
  a.pid = spawn_member("a");
  wait_first_checkpoint("a");
  b.pid = spawn_member("b");
  // 4 partitions x 3 topics: 6 each once both joined, pin/p, geo/p and user/p together.
  ASSERT_TRUE(wait_until(
      [&] { return last_assigned(dir / "a.log") == 6 && last_assigned(dir / "b.log") == 6; }, 60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  emulate(300, 1);
  // Posts of now in every partition move every watermark past the dataset's windows.
  emulate(40, 4, "--timestamps now --duplicates-rate 0 --first-ind 1000000");
  clean_run();
  // The window table too: each member puts its tasks' partials, the one owning task 0
  // merges them (never one member's share alone).
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(true); }, 60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << read_file(dir / "a.log.err");
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(b.wait(), 0) << read_file(dir / "b.log.err");
  expect_shared_equals_clean(true);
  for (const char* m : {"a", "b"}) expect_verified(m);
}

// A member joining mid-run: the running one commits what it read, publishes its tasks and
// lets the rebalance go on (task hand-off); the newcomer imports the tasks it is given and
// reads on after their positions. Nobody stops, nothing is read twice or lost.
TEST_F(GroupsFault, AMemberJoiningMidRunTakesTasksOverAndNothingIsLostOrReadTwice) {
  // Parts waiting in a join over the rebalance (seconds on the dev broker) must not expire
  // there: the clean run, which has no rebalance, would join them.
  std::string yaml = read_file(config);
  edit_yaml(yaml, "expire_after_ms: 3000", "expire_after_ms: 20000");
  write_file(config, yaml);
  emulate(200, 2);
  clean_run();
  Reaper a, b;
  a.pid = spawn_member("a");
  wait_first_checkpoint("a");
  // a has read and committed every task before b joins.
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s))
      << read_file(dir / "a.log.err");
  b.pid = spawn_member("b");
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string ea = read_file(dir / "a.log.err"), eb = read_file(dir / "b.log.err");
        return ea.find("Task handed to another member") != std::string::npos &&
               eb.find("Task imported") != std::string::npos && last_assigned(dir / "a.log") == 6 &&
               last_assigned(dir / "b.log") == 6;
      },
      60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  EXPECT_FALSE(a.exited()) << read_file(dir / "a.log.err");
  EXPECT_FALSE(b.exited()) << read_file(dir / "b.log.err");
  emulate(200, 3);
  emulate(40, 4, "--timestamps now --duplicates-rate 0 --first-ind 1000000");
  fs::remove_all(dir / "clean");
  clean_run();
  // Not fatal: the comparison after the stop says what differs.
  EXPECT_TRUE(wait_until([&] { return shared_equals_clean(true); }, 60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << read_file(dir / "a.log.err");
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(b.wait(), 0) << read_file(dir / "b.log.err");
  expect_shared_equals_clean(true);
  for (const char* m : {"a", "b"}) expect_verified(m);
}

}  // namespace
}  // namespace pinstream::testing
