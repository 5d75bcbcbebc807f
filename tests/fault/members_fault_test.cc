// Scale-out's "done when" (SPEC section 9, issue 17) as real runs of the built binary: the dev
// broker with 3 brokers and 6 partitions per topic, 3 `tasks: partitions` members of one
// group (static instance ids) over one shared tables root and one shared checkpoint store,
// a few thousand dirty posts keyed by `ind`; a member killed -9 mid-run and restarted, a
// member stopped with SIGTERM mid-run, a member added mid-run. Each ends with the shared
// tables equal to one process's on the same data, every member's verify passing, and every
// view asked of every running member answering over 6 tasks of 6, equal to the single
// process's answer. A member that a rebalance stops because it lost a task it had read
// (exit 1: only after its session expired) would be started again, as a supervisor would,
// and counted; none is expected. The kill -9 case runs again with the tables root and the
// checkpoint store in one S3 bucket (s3rver).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/fault/group_members.h"
#include "tests/support/child_process.h"
#include "tests/support/s3_emulator.h"
#include "tests/support/s3_fault_proxy.h"
#include "tests/support/s3_shared.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kPartitions = 6;
// A member's share when all 3 run: 2 tasks of 3 topics.
constexpr int kShareOfThree = 2 * 3;

// The posts: dirty (the dataset's own dirt, and 10% re-posts of earlier rows), none
// malformed: the parts a malformed record leaves wait in the join until they expire, holding
// their window. The second batch's posts are new ones (numbered from --first-ind).
const char* const kFirstBatch = "--malformed-rate 0";
const char* const kSecondBatch = "--malformed-rate 0 --first-ind 100000";

const ComparedTable kWindows = {"category_count_by_hour", "*",
                                " WHERE window_start < TIMESTAMP '2023-01-01'"};
// The window table and view are compared too: each task closes its own windows (a task
// imported from a member whose watermark was behind keeps the windows it holds open).
constexpr bool kCompareWindows = true;

class MembersFault : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string yaml = group_pipeline_yaml();
    auto replace = [&yaml](const std::string& from, const std::string& to) {
      edit_yaml(yaml, from, to);
    };
    shorten_group_session(yaml);
    // Windows of 365 days and 2 years of lateness: the dataset's five years of random
    // timestamps put posts of every partition in one window, so that a window's row needs
    // every task. Join entries keep their 7 days of expiry (processing time): a shorter one
    // would expire posts whose task sits out a rebalance, which one process never does.
    replace("window: {tumbling_ms: 3600000}", "window: {tumbling_ms: 31536000000}");
    replace("allowed_lateness_ms: 600000", "allowed_lateness_ms: 63072000000");
    write_file(config, yaml);
    // The reference reads every partition without a group, and keeps its state at its stop.
    replace("    group_id: ${TEST_GROUP}\n", "    group_id: ${TEST_GROUP}\n    partitions: all\n");
    write_file(config_clean, yaml);
    const std::string servers = start_dev_broker(broker, id, kPartitions, dir.path(), 3);
    ASSERT_FALSE(servers.empty()) << read_file(dir / "broker.log.err");
    base = "PINSTREAM_ID=" + id + " PINSTREAM_KAFKA=" + servers + " ";
    const auto [tables_root, checkpoints_root] = roots();
    members = std::make_unique<GroupMembers>(dir.path(),
                                             base + "TEST_GROUP=" + id + "-g PINSTREAM_TABLES='" +
                                                 tables_root + "' PINSTREAM_CHECKPOINTS='" +
                                                 checkpoints_root + "' ",
                                             config);
  }

  // The shared tables root and checkpoint store: local directories here.
  virtual std::pair<std::string, std::string> roots() const {
    return {shared.string(), checkpoints.string()};
  }
  // The shared tables where DuckDB reads them (a local copy when they are elsewhere).
  virtual fs::path shared_tables() const { return shared; }

  void emulate(int count, int seed, const std::string& extra = kFirstBatch) {
    emulate_into_kafka(base, config, count, seed, extra);
  }
  // Posts of now in every partition: every task's watermark passes the dataset's windows.
  // A fifth of them malformed (dead letters): their parts left waiting hold only the window
  // of now, which no table compares.
  void emulate_now() {
    emulate(60, 99,
            "--timestamps now --duplicates-rate 0 --malformed-rate 0.2 --first-ind 1000000");
  }

  // The reference: one process alone reads every record, until idle (again from the start
  // at each call, in a group of its own).
  void clean_run() {
    fs::remove_all(dir / "clean");
    ++cleans;
    std::string out;
    ASSERT_EQ(run_command(clean_env() + "timeout 120 " + pinstream_binary().string() +
                              " run --until-idle --config '" + config_clean.string() + "'",
                          &out),
              0)
        << out;
  }
  std::string clean_env() const {
    return base + "TEST_GROUP=" + id + "-clean" + std::to_string(cleans) + " PINSTREAM_DATA='" +
           (dir / "clean").string() + "' ";
  }
  json ask_clean(const std::string& args) const {
    std::string out;
    run_command("env " + clean_env() + pinstream_binary().string() + " query " + args +
                    " --config '" + config_clean.string() + "' --format json 2>/dev/null",
                &out, false);
    json j = json::parse(out, nullptr, false);
    return j.is_discarded() ? json{{"unparsed", out}} : j;
  }

  // The record tables, and the window table once every task's watermark passed the windows
  // (a member never writes the windows that an `--until-idle` run writes at its end).
  std::vector<ComparedTable> compared(bool windows = true) const {
    std::vector<ComparedTable> out = record_tables();
    if (windows && kCompareWindows) out.push_back(kWindows);
    return out;
  }
  // Waits (restarting the members a rebalance stops) until the shared tables equal the clean
  // run's.
  void wait_shared_equals_clean(bool windows = true) {
    ASSERT_TRUE(wait_until(
        [&] {
          return members->supervise() &&
                 tables_equal(shared_tables(), dir / "clean/tables", compared(windows));
        },
        60s, 500ms))
        << members->errs();
  }
  void expect_shared_equals_clean() const {
    const fs::path got = shared_tables();
    expect_tables_equal(got, dir / "clean/tables", compared());
    EXPECT_NE(table_rows(got / kWindows.table, "*", kWindows.where), "[]");
    if (!kCompareWindows) std::printf("not compared: the %s table\n", kWindows.table.c_str());
  }

  // Every view asked of each of `of` equals the clean run's answer, over 6 tasks of 6.
  void expect_views_equal_clean(const std::vector<int>& of) {
    json list = ask_clean("--list");
    ASSERT_TRUE(list.contains("views")) << list.dump();
    std::vector<std::string> names;
    for (const auto& v : list["views"])
      if (kCompareWindows || v != kWindows.table) names.push_back(v.get<std::string>());
    ASSERT_GE(names.size(), 10u);
    for (const auto& v : names) {
      const json want = ask_clean(v);
      ASSERT_EQ(want["tasks"]["covered"], kPartitions) << v << ": " << want.dump();
      for (int m : of) {
        json got;
        ASSERT_TRUE(wait_until(
            [&] {
              got = members->ask(m, v);
              return got["rows"] == want["rows"] && got["tasks"]["covered"] == kPartitions;
            },
            20s, 100ms))
            << "member " << m << " " << v << ": tasks " << got["tasks"].dump() << " "
            << got.dump().substr(0, 600) << "\nwant " << want.dump().substr(0, 600);
        EXPECT_EQ(got["tasks"]["total"], kPartitions) << got.dump().substr(0, 300);
      }
    }
  }

  // Member m has read records (its stats count some).
  bool has_read(int m) const {
    json s = members->ask(m, "--stats");
    if (!s.contains("streams")) return false;
    for (const auto& [name, st] : s["streams"].items())
      if (st.value("read", 0) > 0) return true;
    return false;
  }

  void expect_verified(const std::vector<int>& of) const {
    for (int m : of) {
      std::string out;
      EXPECT_EQ(members->verify(m, &out), 0) << "member " << m << ": " << out;
    }
  }

  void start_three() {
    for (int m : {1, 2, 3}) members->start(m);
    ASSERT_TRUE(wait_until(
        [&] {
          return members->assigned_each({1, 2, 3}, kShareOfThree);
        },
        60s, 50ms))
        << members->errs();
  }

  // Member 2 of 3 killed -9 mid-run and started again later.
  void kill_and_restart_2() {
    start_three();
    emulate(1500, 1);
    // Mid-run: member 2 dies without handing anything over once it has read some posts; more
    // posts come while it is away.
    ASSERT_TRUE(wait_until([&] { return has_read(2); }, 30s, 20ms)) << members->errs();
    members->signal(2, SIGKILL);
    members->wait(2);
    emulate(1500, 2, kSecondBatch);
    // Its session expires and the others are given its tasks (held: no checkpoint of them at
    // the tables' epoch); then it is back and hands them over at its start.
    ASSERT_TRUE(wait_until(
        [&] {
          return members->supervise() &&
                 members->assigned(1) + members->assigned(3) == 3 * kPartitions;
        },
        30s, 50ms))
        << members->errs();
    members->start(2);
    emulate_now();
    clean_run();
    wait_shared_equals_clean();
    ASSERT_TRUE(wait_until(
        [&] {
          return members->supervise() && members->assigned_each({1, 2, 3}, kShareOfThree);
        },
        30s, 50ms))
        << members->errs();
    expect_views_equal_clean({1, 2, 3});
    std::printf("members restarted after a rebalance stopped them: %d\n", members->restarts);
    members->stop_all();
    expect_shared_equals_clean();
    expect_verified({1, 2, 3});
  }

  TempDir dir{"ps-fault-members"};
  const std::string id = unique_name("mem");
  const fs::path config = dir / "pipeline.yaml";
  const fs::path config_clean = dir / "pipeline-clean.yaml";
  const fs::path shared = dir / "shared-tables";
  const fs::path checkpoints = dir / "shared-checkpoints";
  std::string base;
  int cleans = 0;
  Reaper broker;
  std::unique_ptr<GroupMembers> members;
};

TEST_F(MembersFault, ThreeMembersKilledAndRestartedEqualOneProcess) { kill_and_restart_2(); }

TEST_F(MembersFault, AGracefulStopMovesTasksAndEveryViewStillEqualsOneProcess) {
  start_three();
  emulate(1500, 3);
  ASSERT_TRUE(wait_until([&] { return has_read(3); }, 30s, 20ms)) << members->errs();
  // Mid-run: member 3 stops, publishing its tasks' checkpoints after its last commit.
  members->signal(3, SIGTERM);
  EXPECT_EQ(members->wait(3), 0) << members->err(3);
  EXPECT_NE(members->err(3).find("Task checkpoints published. when=stop"), std::string::npos)
      << members->err(3);
  emulate(1500, 4, kSecondBatch);
  emulate_now();
  clean_run();
  ASSERT_TRUE(wait_until(
      [&] {
        return members->supervise() &&
               members->assigned(1) + members->assigned(2) == 3 * kPartitions;
      },
      30s, 50ms))
      << members->errs();
  wait_shared_equals_clean();
  expect_views_equal_clean({1, 2});
  std::printf("members restarted after a rebalance stopped them: %d\n", members->restarts);
  members->stop_all();
  expect_shared_equals_clean();
  expect_verified({1, 2, 3});
}

// The running members hand the tasks the newcomer is given over (task hand-off on a
// rebalance): nobody stops.
TEST_F(MembersFault, AMemberAddedMidRunTakesTasksAndNothingIsLostOrDoubled) {
  for (int m : {1, 2}) members->start(m);
  ASSERT_TRUE(wait_until(
      [&] {
        return members->assigned_each({1, 2}, 3 * 3);
      },
      60s, 50ms))
      << members->errs();
  emulate(1500, 5);
  ASSERT_TRUE(wait_until([&] { return has_read(1) && has_read(2); }, 30s, 20ms)) << members->errs();
  members->start(3);
  emulate(1500, 6, kSecondBatch);
  emulate_now();
  clean_run();
  ASSERT_TRUE(wait_until(
      [&] {
        return members->supervise() && members->assigned_each({1, 2, 3}, kShareOfThree);
      },
      30s, 50ms))
      << members->errs();
  wait_shared_equals_clean();
  expect_views_equal_clean({1, 2, 3});
  // The members that gave tasks away kept running.
  EXPECT_EQ(members->restarts, 0) << members->errs();
  members->stop_all();
  expect_shared_equals_clean();
  expect_verified({1, 2, 3});
}

constexpr const char* kBucket = "pinstream-members";

// The same over S3 (s3rver behind the proxy that adds the conditional PUT): the members'
// tables root and checkpoint store in one bucket.
class MembersFaultS3 : public MembersFault {
 protected:
  std::pair<std::string, std::string> roots() const override {
    auto& s3 = shared_s3(kBucket);
    EXPECT_TRUE(s3.proxy);
    const std::string root = std::string("s3://") + kBucket + "/" + id;
    return {root + "/tables", root + "/checkpoints"};
  }
  // The bucket's tables, synced to a local directory (the AWS CLI, straight from s3rver).
  fs::path shared_tables() const override {
    const fs::path local = dir / "s3-tables";
    std::string out;
    EXPECT_EQ(run_command("/usr/bin/aws --endpoint-url " + shared_s3(kBucket).emulator->endpoint() +
                              " --region us-east-1 s3 sync --delete --quiet s3://" + kBucket + "/" +
                              id + "/tables '" + local.string() + "'",
                          &out),
              0)
        << out;
    return local;
  }
};

TEST_F(MembersFaultS3, ThreeMembersKilledAndRestartedEqualOneProcess) {
  kill_and_restart_2();
  EXPECT_FALSE(fs::exists(shared)) << "tables went to the local disk";
}

}  // namespace
}  // namespace pinstream::testing
