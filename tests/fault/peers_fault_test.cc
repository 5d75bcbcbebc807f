// Queries over the whole pipeline (SPEC section 9, issue 17) as real runs of the built
// binary against the dev broker: two `tasks: partitions` members of one consumer group over
// one shared tables root and one shared checkpoint store (its `peers/` namespace) find each other
// through their records there and answer every view merged over both (equal to one process fed
// every record, covering 4 of 4 tasks); once one member stops, the other says it covers 2 of
// 4 and names the tasks it lacks, never a silent partial answer; asked offline, the stopped
// member merges its committed state with the live member's, and its stats take the counters
// of the tasks it handed over from where they live now. Tasks held after a kill -9 are named
// with the reason in the stats answer and the member's record.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/fault/group_members.h"
#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class PeersFault : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string yaml = group_pipeline_yaml();
    auto replace = [&yaml](const std::string& from, const std::string& to) {
      edit_yaml(yaml, from, to);
    };
    write_file(config, yaml);
    // The reference reads every partition without a group: a member of a group hands its
    // tasks over when it stops (its state lets them go), a lone process keeps its state.
    replace("    group_id: ${TEST_GROUP}\n", "    group_id: ${TEST_GROUP}\n    partitions: all\n");
    write_file(config_clean, yaml);
    const std::string servers = start_dev_broker(broker, id, 4, dir.path());
    ASSERT_FALSE(servers.empty()) << read_file(dir / "broker.log.err");
    base = "PINSTREAM_ID=" + id + " PINSTREAM_KAFKA=" + servers + " ";
  }

  std::string member(const std::string& name) const {
    return base + "TEST_GROUP=" + id + "-g PINSTREAM_DATA='" + (dir / name).string() +
           "' PINSTREAM_TABLES='" + (dir / "shared-tables").string() + "' PINSTREAM_CHECKPOINTS='" +
           (dir / ("checkpoints-" + name)).string() + "' ";
  }
  // Until members keep their whole-state checkpoints apart in one shared store (task
  // hand-off), each member has a store of its own whose `peers/` namespace is one shared
  // directory: what the members share of a store to find each other.
  pid_t spawn_member(const std::string& name) const {
    fs::create_directories(dir / "shared-peers");
    fs::create_directories(dir / ("checkpoints-" + name));
    std::error_code ec;
    fs::create_directory_symlink(dir / "shared-peers", dir / ("checkpoints-" + name) / "peers", ec);
    return spawn_shell("env " + member(name) + pinstream_binary().string() + " run --config '" +
                           config.string() + "'",
                       dir / (name + ".log"));
  }

  // `view`'s JSON answer from member `name`'s socket, or from the reference's committed state.
  json ask(const std::string& name, const std::string& view) const {
    std::string out, target = name == "clean"
                                  ? "--config '" + config_clean.string() + "'"
                                  : "--socket '" + (dir / name / "pinstream.sock").string() + "'";
    std::string env = name == "clean" ? base + "TEST_GROUP=" + id + "-clean PINSTREAM_DATA='" +
                                            (dir / "clean").string() + "' "
                                      : base;
    run_command("env " + env + pinstream_binary().string() + " query " + view + " " + target +
                    " --format json",
                &out, false);
    json j = json::parse(out, nullptr, false);
    return j.is_discarded() ? json{{"unparsed", out}} : j;
  }

  std::vector<std::string> views() const {
    json list = ask("clean", "--list");
    std::vector<std::string> out;
    for (const auto& v : list["views"]) out.push_back(v.get<std::string>());
    return out;
  }

  // b stopped, its stats asked offline: every task's counters come from where the task lives
  // now (a live member, b's state, the checkpoint b wrote when it handed the task over) or
  // the task is named as missing, never read as 0.
  void expect_offline_stats_cover_every_task(const std::set<int>& tasks_of_b) const {
    std::string line;
    run_command("env " + member("b") + pinstream_binary().string() + " query --stats --config '" +
                    config.string() + "' --format json",
                &line, false);
    json st = json::parse(line, nullptr, false);
    ASSERT_FALSE(st.is_discarded()) << line;
    std::set<int> seen;
    for (const auto& [task, by_stream] : st["tasks"].items()) {
      seen.insert(std::stoi(task));
      int64_t read = 0;
      for (const auto& [stream, c] : by_stream.items()) read += c["read"].get<int64_t>();
      EXPECT_GT(read, 0) << task << ": " << line;
      EXPECT_TRUE(st["task_sources"].contains(task)) << task << ": " << line;
    }
    for (const auto& m : st["tasks_missing"]) {
      EXPECT_TRUE(seen.insert(m["task"].get<int>()).second) << line;
      EXPECT_FALSE(m["reason"].get<std::string>().empty()) << line;
    }
    EXPECT_EQ(seen, (std::set<int>{0, 1, 2, 3})) << line;
    // The streams' counters sum the tasks found.
    int64_t read = 0;
    for (const auto& [task, by_stream] : st["tasks"].items())
      read += by_stream["pin"]["read"].get<int64_t>();
    EXPECT_EQ(st["streams"]["pin"]["read"], read) << line;
    EXPECT_EQ(st["streams_cover"]["tasks"], st["tasks"].size()) << line;
    // b's tasks: from a, which serves them now, or from the checkpoints b wrote.
    for (int t : tasks_of_b) EXPECT_TRUE(st["tasks"].contains(std::to_string(t))) << line;
  }

  TempDir dir{"ps-fault-peers"};
  const std::string id = unique_name("peer");
  const fs::path config = dir / "pipeline.yaml";
  const fs::path config_clean = dir / "pipeline-clean.yaml";
  std::string base;
  Reaper broker;
};

TEST_F(PeersFault, EitherMemberAnswersEveryViewForTheWholePipelineAndNamesWhatItLacks) {
  Reaper a, b;
  a.pid = spawn_member("a");
  b.pid = spawn_member("b");
  ASSERT_TRUE(wait_until(
      [&] { return last_assigned(dir / "a.log") == 6 && last_assigned(dir / "b.log") == 6; }, 60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  emulate_into_kafka(base, config, 300, 7, "");
  if (::testing::Test::HasFatalFailure()) return;
  std::string out;
  // The reference: one process alone reads every record.
  ASSERT_EQ(
      run_command(base + "TEST_GROUP=" + id + "-clean PINSTREAM_DATA='" + (dir / "clean").string() +
                      "' timeout 120 " + pinstream_binary().string() +
                      " run --until-idle --config '" + config_clean.string() + "'",
                  &out),
      0)
      << out;
  const std::vector<std::string> names = views();
  ASSERT_GE(names.size(), 10u);
  std::map<std::string, json> want;
  for (const auto& v : names) {
    want[v] = ask("clean", v);
    ASSERT_EQ(want[v]["tasks"]["covered"], 4) << want[v].dump();
  }
  // Every view from either member: the reference's rows, over 4 of 4 tasks.
  for (const char* m : {"a", "b"}) {
    for (const auto& v : names) {
      json got;
      EXPECT_TRUE(wait_until(
          [&] {
            got = ask(m, v);
            return got["rows"] == want[v]["rows"] && got["tasks"]["covered"] == 4;
          },
          30s))
          << m << " " << v << ": " << got.dump().substr(0, 600) << "\nwant "
          << want[v].dump().substr(0, 600);
      EXPECT_EQ(got["tasks"]["total"], 4) << got.dump().substr(0, 300);
    }
  }
  // The members' records are read every 2 s: they show both members' tasks soon after.
  json stats;
  ASSERT_TRUE(wait_until(
      [&] {
        stats = ask("a", "--stats");
        if (stats["members"].size() != 2u) return false;
        for (const auto& mem : stats["members"])
          if (mem["tasks"].size() != 2u) return false;
        return true;
      },
      30s))
      << stats.dump();
  std::set<int> tasks_of_b;
  for (const auto& mem : stats["members"])
    if (!mem["self"].get<bool>())
      for (const auto& t : mem["tasks"]) tasks_of_b.insert(t.get<int>());
  // b stops: a covers its own 2 tasks and names the 2 it lacks.
  ::kill(b.pid, SIGTERM);
  EXPECT_EQ(b.wait(), 0) << read_file(dir / "b.log.err");
  json got;
  ASSERT_TRUE(wait_until(
      [&] {
        got = ask("a", names[0]);
        return got["tasks"]["covered"] == 2;
      },
      30s))
      << got.dump();
  EXPECT_EQ(got["tasks"]["total"], 4) << got.dump();
  std::set<int> missing;
  for (const auto& m : got["tasks"]["missing"]) {
    missing.insert(m["task"].get<int>());
    EXPECT_FALSE(m["reason"].get<std::string>().empty()) << got.dump();
  }
  EXPECT_EQ(missing, tasks_of_b) << got.dump();
  // b stopped, asked offline (`query --config` over its committed state): b handed its tasks
  // over at its stop (its state let them go), so the answer covers what live members serve
  // (a, and b's tasks once a's session timeout gave them to a) and names every other task of
  // the four, each one of b's: never b's old share passed off as current.
  for (const auto& v : names) {
    std::string line;
    run_command("env " + member("b") + pinstream_binary().string() + " query " + v + " --config '" +
                    config.string() + "' --format json",
                &line, false);
    json offline = json::parse(line, nullptr, false);
    std::set<int> lacking;
    for (const auto& m : offline["tasks"]["missing"]) lacking.insert(m["task"].get<int>());
    EXPECT_EQ(offline["tasks"]["total"], 4) << v << ": " << line.substr(0, 300);
    EXPECT_EQ(offline["tasks"]["covered"].get<int>() + static_cast<int>(lacking.size()), 4)
        << v << ": " << line.substr(0, 300);
    for (int t : lacking) EXPECT_TRUE(tasks_of_b.count(t)) << t << " " << line.substr(0, 300);
  }
  expect_offline_stats_cover_every_task(tasks_of_b);
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << read_file(dir / "a.log.err");
  // A clean stop removes a member's record.
  EXPECT_TRUE(fs::is_empty(dir / "shared-peers"));
}

// A member killed with -9: once its session expires the other is given its tasks, whose
// commits are in the tables with no checkpoint at their epoch, and holds them paused; its
// stats answer and its record name them with the reason.
TEST_F(PeersFault, TasksHeldAfterAKillAreNamedWithTheReasonInStatsAndTheRecord) {
  std::string yaml = group_pipeline_yaml();
  shorten_group_session(yaml);
  write_file(config, yaml);
  Reaper a, b;
  a.pid = spawn_member("a");
  b.pid = spawn_member("b");
  ASSERT_TRUE(wait_until(
      [&] { return last_assigned(dir / "a.log") == 6 && last_assigned(dir / "b.log") == 6; }, 60s))
      << read_file(dir / "a.log.err") << read_file(dir / "b.log.err");
  emulate_into_kafka(base, config, 300, 9, "");
  if (::testing::Test::HasFatalFailure()) return;
  std::string out;
  // b has committed records of both its tasks: the tables hold their commits.
  ASSERT_TRUE(wait_until(
      [&] {
        json st = ask("b", "--stats");
        if (!st["tasks"].is_object() || st["tasks"].size() != 2u) return false;
        for (const auto& [task, by_stream] : st["tasks"].items())
          if (by_stream["pin"]["read"].get<int64_t>() == 0) return false;
        return true;
      },
      60s))
      << read_file(dir / "b.log.err");
  ::kill(b.pid, SIGKILL);
  b.wait();
  json stats, self;
  ASSERT_TRUE(wait_until(
      [&] {
        stats = ask("a", "--stats");
        for (const auto& m : stats["members"])
          if (m["self"].get<bool>()) self = m;
        return self["held"].size() == 2u;
      },
      60s))
      << stats.dump() << "\na exited: " << a.exited().value_or(-1) << "\n"
      << read_file(dir / "a.log.err");
  for (const auto& h : self["held"])
    EXPECT_NE(h["reason"].get<std::string>().find("no task checkpoint of it exists"),
              std::string::npos)
        << self.dump();
  // a's record in the shared `peers/` says the same.
  json record;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& f : fs::directory_iterator(dir / "shared-peers")) {
          json r = json::parse(read_file(f.path()), nullptr, false);
          if (!r.is_discarded() && r["instance"] == self["instance"]) record = r;
        }
        return record["held"] == self["held"];
      },
      10s))
      << record.dump() << "\n"
      << self.dump();
  ::kill(a.pid, SIGTERM);
  EXPECT_EQ(a.wait(), 0) << read_file(dir / "a.log.err");
}

}  // namespace
}  // namespace pinstream::testing
