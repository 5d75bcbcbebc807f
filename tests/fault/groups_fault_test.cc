// Scale-out members (SPEC section 9, issue 17) as real runs of the built binary against the
// dev broker: two `tasks: partitions` members of one consumer group over one shared tables
// root write every record once; a member joining a group whose tasks are already committed
// holds them paused (and the member that would lose tasks it read stops), never reading a
// task again from its start; the tables then equal a clean run's.
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
    std::string out;
    ASSERT_EQ(
        run_command(base + "TEST_GROUP=x " + pinstream_binary().string() + " emulate --config '" +
                        config.string() + "' --sink kafka " + extra + " --count " +
                        std::to_string(count) + " --seed " + std::to_string(seed),
                    &out),
        0)
        << out;
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
  // Each member's state agrees with the shared tables (the other's tasks are not its own).
  // Its checkpoints are not compared: the shared store holds the other member's too.
  for (const char* m : {"a", "b"}) {
    std::string out;
    EXPECT_EQ(
        run_command("env " + member(m) + "PINSTREAM_CHECKPOINTS= " + pinstream_binary().string() +
                        " verify --config '" + config.string() + "'",
                    &out),
        0)
        << m << ": " << out;
  }
}

TEST_F(GroupsFault, AMemberJoiningCommittedTasksHoldsThemAndNothingIsReadTwice) {
  emulate(200, 2);
  clean_run();
  Reaper a, b;
  a.pid = spawn_member("a");
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s))
      << read_file(dir / "a.log.err");
  wait_first_checkpoint("a");
  // b joins: a would lose tasks it read and stops (exit 1); b is given tasks a committed, of
  // which no task checkpoint exists, and holds them paused instead of reading them again
  // from their start.
  b.pid = spawn_member("b");
  std::optional<int> code_a;
  ASSERT_TRUE(wait_until(
      [&] {
        if (!code_a) code_a = a.exited();
        return code_a && read_file(dir / "b.log.err").find("held paused") != std::string::npos;
      },
      60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  const std::string err_a = read_file(dir / "a.log.err"), err_b = read_file(dir / "b.log.err");
  EXPECT_EQ(*code_a, 1) << err_a;
  EXPECT_NE(err_a.find("moved partitions this process has read"), std::string::npos) << err_a;
  // a stopped on an error, without handing its tasks over: nothing can continue them.
  EXPECT_NE(err_b.find("no task checkpoint of it exists"), std::string::npos) << err_b;
  EXPECT_FALSE(b.exited()) << err_b;
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(b.wait(), 0) << read_file(dir / "b.log.err");
  expect_shared_equals_clean();
  // Alone again, the first member goes on from its own positions: more input, still exact.
  emulate(100, 3);
  fs::remove_all(dir / "clean");
  clean_run();
  a.pid = spawn_member("a");
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s))
      << read_file(dir / "a.log.err");
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << read_file(dir / "a.log.err");
  expect_shared_equals_clean();
}

}  // namespace
}  // namespace pinstream::testing
