// Task hand-off (SPEC section 9, issue 17) as real runs of the built binary against the dev
// broker: members of one `tasks: partitions` group over one tables root and one checkpoint
// store. A member stopped with SIGTERM publishes its tasks' checkpoints; the member given
// its tasks imports them and reads on from their positions (nothing read twice, nothing
// skipped); a member killed with -9 leaves its tasks held by the others until it is back.
// The tables end equal to a clean single-process run's, and every member's verify passes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/fault/group_members.h"
#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Seconds of the day of the first log line ("YYYY-MM-DDTHH:MM:SS.mmm ...") holding
// `what` at or after `from` (a byte offset), -1 when none.
double logged_at(const std::string& text, const std::string& what, size_t from = 0) {
  size_t at = text.find(what, from);
  if (at == std::string::npos) return -1;
  size_t line = text.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  int h = 0, m = 0;
  double s = 0;
  if (std::sscanf(text.c_str() + line, "%*d-%*d-%*dT%d:%d:%lf", &h, &m, &s) != 3) return -1;
  return h * 3600 + m * 60 + s;
}

class HandoffFault : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string yaml = group_pipeline_yaml();
    shorten_group_session(yaml);
    write_file(config, yaml);
    const std::string servers = start_dev_broker(broker, id, 4, dir.path());
    ASSERT_FALSE(servers.empty()) << read_file(dir / "broker.log.err");
    base = "PINSTREAM_ID=" + id + " PINSTREAM_KAFKA=" + servers + " ";
  }

  void emulate(int count, int seed) {
    emulate_into_kafka(base, config, count, seed, "--malformed-rate 0.05");
  }

  // A member: its own data directory; the tables root and checkpoint store shared.
  std::string member(const std::string& name) const {
    return base + "TEST_GROUP=" + id + "-g PINSTREAM_DATA='" + (dir / name).string() +
           "' PINSTREAM_TABLES='" + shared.string() + "' PINSTREAM_CHECKPOINTS='" +
           checkpoints.string() + "' ";
  }
  pid_t spawn_member(const std::string& name) const {
    return spawn_shell("env " + member(name) + pinstream_binary().string() + " run --config '" +
                           config.string() + "'",
                       dir / (name + ".log"));
  }
  std::string err(const std::string& name) const { return read_file(dir / (name + ".log.err")); }

  void clean_run() {
    fs::remove_all(dir / "clean");
    std::string out;
    ASSERT_EQ(run_command(base + "TEST_GROUP=" + id + "-clean" + std::to_string(++cleans) +
                              " PINSTREAM_DATA='" + (dir / "clean").string() + "' timeout 120 " +
                              pinstream_binary().string() + " run --until-idle --config '" +
                              config.string() + "'",
                          &out),
              0)
        << out;
  }

  bool shared_equals_clean() const {
    return tables_equal(shared, dir / "clean/tables", record_tables());
  }
  void expect_shared_equals_clean() const {
    expect_tables_equal(shared, dir / "clean/tables", record_tables());
  }

  void expect_verified(const std::string& name) const {
    std::string out;
    EXPECT_EQ(run_command("env " + member(name) + pinstream_binary().string() +
                              " verify --config '" + config.string() + "'",
                          &out),
              0)
        << name << ": " << out;
  }

  TempDir dir{"ps-fault-handoff"};
  const std::string id = unique_name("hof");
  const fs::path config = dir / "pipeline.yaml";
  const fs::path shared = dir / "shared-tables";
  const fs::path checkpoints = dir / "shared-checkpoints";
  std::string base;
  int cleans = 0;
  Reaper broker;
};

TEST_F(HandoffFault, AStoppedMembersTasksMoveToTheOtherAndEveryRecordIsWrittenOnce) {
  Reaper a, b;
  a.pid = spawn_member("a");
  b.pid = spawn_member("b");
  ASSERT_TRUE(wait_until(
      [&] { return last_assigned(dir / "a.log") == 6 && last_assigned(dir / "b.log") == 6; }, 60s))
      << err("a") << err("b");
  emulate(300, 1);
  clean_run();
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s)) << err("a") << err("b");
  // b stops: its tasks' checkpoints are published after its last commit, and a takes them.
  const size_t a_before = err("a").size();
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(b.wait(), 0) << err("b");
  EXPECT_NE(err("b").find("Task checkpoints published. when=stop"), std::string::npos) << err("b");
  ASSERT_TRUE(wait_until([&] { return last_assigned(dir / "a.log") == 12; }, 60s)) << err("a");
  const std::string text_a = err("a"), text_b = err("b");
  EXPECT_NE(text_a.find("Task taken. task=", a_before), std::string::npos) << text_a;
  EXPECT_NE(text_a.find("how=import", a_before), std::string::npos) << text_a;
  const double stopped = logged_at(text_b, "Task checkpoints published. when=stop");
  const double revoked = logged_at(text_a, "Kafka partitions revoked.", a_before);
  const double imported = logged_at(text_a, "Task imported.", a_before);
  std::printf(
      "hand-off: b published at its stop -> a imported its tasks: %.3f s (a's revoke "
      "-> imported: %.3f s)\n",
      imported - stopped, imported - revoked);
  // More input: a reads all four tasks, exactly once.
  emulate(200, 2);
  clean_run();
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s)) << err("a");
  EXPECT_NE(err("a").find("Task reading again.", a_before), std::string::npos);
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << err("a");
  expect_shared_equals_clean();
  expect_verified("a");
  expect_verified("b");
}

TEST_F(HandoffFault, AKilledMembersTasksAreHeldUntilItIsBackAndNothingIsReadTwice) {
  Reaper a, b;
  a.pid = spawn_member("a");
  b.pid = spawn_member("b");
  ASSERT_TRUE(wait_until(
      [&] { return last_assigned(dir / "a.log") == 6 && last_assigned(dir / "b.log") == 6; }, 60s))
      << err("a") << err("b");
  emulate(300, 3);
  clean_run();
  ASSERT_TRUE(wait_until([&] { return shared_equals_clean(); }, 60s)) << err("a") << err("b");
  // b dies without handing anything over: once its session expires a is given its tasks,
  // whose commits are in the tables without a checkpoint at their epoch: held, not read.
  ::kill(b.pid, SIGKILL);
  b.wait();
  ASSERT_TRUE(
      wait_until([&] { return err("a").find("Task held paused.") != std::string::npos; }, 60s))
      << err("a");
  EXPECT_NE(err("a").find("no task checkpoint of it exists"), std::string::npos) << err("a");
  emulate(200, 4);
  // b comes back: it hands its tasks over at start (their checkpoints at the tables' epoch)
  // and the group assigns them again. A member losing tasks it read stops (exit 1) and is
  // restarted, as a supervisor would: it hands its own over the same way.
  b.pid = spawn_member("b");
  clean_run();
  int restarts = 0;
  auto restart_if_stopped = [&](const std::string& name, Reaper& r) {
    auto code = r.exited();
    if (!code || restarts >= 4) return;
    EXPECT_EQ(*code, 1) << err(name);
    EXPECT_NE(err(name).find("moved partitions this process has read"), std::string::npos)
        << err(name);
    ++restarts;
    r.pid = spawn_member(name);
  };
  ASSERT_TRUE(wait_until(
      [&] {
        restart_if_stopped("a", a);
        restart_if_stopped("b", b);
        return shared_equals_clean();
      },
      90s))
      << err("a") << err("b");
  std::printf("members restarted after losing tasks they read: %d\n", restarts);
  ::kill(a.pid, SIGTERM);
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << err("a");
  EXPECT_EQ(b.wait(), 0) << err("b");
  expect_shared_equals_clean();
  expect_verified("a");
  expect_verified("b");
}

}  // namespace
}  // namespace pinstream::testing
