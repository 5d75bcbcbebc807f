// Exactly-once under kill -9, and replay from checkpoints, with the default pipeline over
// S3-sink files (SPEC section 6).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

struct Env {
  TempDir dir{"pinstream-recovery"};
  ExpectedPipeline expected;
  fs::path config;

  // A copy of the default pipeline with small epochs, so that a run has many of them.
  explicit Env(size_t keys, const std::string& extra_replace_from = "",
               const std::string& extra_replace_to = "", int epoch_records = 300,
               bool archive = false) {
    expected.write_input(dir.path() / "raw", keys);
    std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
    replace(yaml, "epoch_max_records: 200000",
            "epoch_max_records: " + std::to_string(epoch_records) +
                "\n  poll_batch: " + std::to_string(epoch_records / 2));
    replace(yaml, "checkpoint_every_epochs: 10", "checkpoint_every_epochs: 2");
    if (!extra_replace_from.empty()) replace(yaml, extra_replace_from, extra_replace_to);
    // Every stream also keeps a raw archive in the S3-sink layout.
    const std::string line = "    archive: {root: \"" + (dir.path() / "archive").string() + "\"}\n";
    for (size_t at = 0; archive && (at = yaml.find("\n    key: ind\n", at)) != std::string::npos;) {
      yaml.insert(at + 1, line);
      at += 1 + line.size() + 12;  // past the inserted line and "    key: ind"
    }
    config = dir.path() / "pipeline.yaml";
    write_file(config, yaml);
  }
  static void replace(std::string& s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
  }
  std::string env() const {
    return "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
           "' PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  }
  int pinstream(const std::string& args, std::string* out = nullptr) const {
    return run_command(env() + pinstream_binary().string() + " " + args, out);
  }
  json query(const std::string& view) const {
    std::string out;
    EXPECT_EQ(run_command(env() + pinstream_binary().string() + " query --config '" +
                              config.string() + "' " + view + " --format json",
                          &out, false),
              0)
        << out;
    return json::parse(out, nullptr, false);
  }
  // Keys in a table, with multiplicity.
  std::multiset<int64_t> keys(const std::string& table) const {
    return table_keys(dir.path() / "data/tables" / table);
  }
  // The archive holds every raw input line of each topic exactly once, in the S3-sink layout.
  void expect_archive_holds_the_input_once() const {
    for (const char* s : {"pin", "geo", "user"}) {
      std::string topic = std::string("pinterest.") + s;
      std::multiset<std::string> want, got;
      for (const auto& f : fs::recursive_directory_iterator(dir.path() / "raw/topics" / topic))
        if (f.is_regular_file())
          for (auto& l : read_lines(f.path())) want.insert(l);
      size_t files = 0;
      for (const auto& f :
           fs::recursive_directory_iterator(dir.path() / "archive/topics" / topic)) {
        // A kill -9 during a write can leave a hidden temporary file (".<name>.ps-tmp-<pid>-<n>")
        // beside the archive's files; like any reader of the layout, skip hidden files.
        if (!f.is_regular_file() || f.path().filename().string()[0] == '.') continue;
        ++files;
        std::string name = f.path().filename().string();
        EXPECT_EQ(name.rfind(
                      topic + "+" + f.path().parent_path().filename().string().substr(10) + "+", 0),
                  0u)
            << name;
        for (auto& l : read_lines(f.path())) got.insert(l);
      }
      EXPECT_GT(files, 3u) << topic;
      EXPECT_EQ(got.size(), want.size()) << topic;
      EXPECT_TRUE(got == want) << topic;
    }
  }
  void expect_exactly_once_and_views() const {
    for (auto [table, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                                std::pair{"user", &expected.user}}) {
      auto got = keys(table);
      std::multiset<int64_t> want;
      for (const auto& [k, v] : *model) want.insert(k);
      EXPECT_EQ(got, want) << table;
    }
    for (const char* v :
         {"most_popular_category_by_country", "median_follower_count_by_age_group",
          "users_joined_by_year", "category_count_by_year", "most_followed_user_by_country"}) {
      json a = query(v);
      ASSERT_TRUE(a.value("ok", false)) << a.dump();
      EXPECT_EQ(a["rows"], expected.view(v)) << v;
    }
  }
};

// Every pinstream commit (one with a txn) of every table adds files: a table without rows in
// an epoch gets no commit. Returns, per table, {commits with a txn, highest txn version}.
std::map<std::string, std::pair<int64_t, int64_t>> expect_no_empty_commits(const fs::path& tables) {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (const auto& t : fs::directory_iterator(tables)) {
    if (!fs::exists(t.path() / "_delta_log")) continue;
    auto& [commits, top] = out[t.path().filename().string()];
    for (const auto& f : fs::directory_iterator(t.path() / "_delta_log")) {
      if (f.path().extension() != ".json" || f.path().stem().string().size() != 20) continue;
      int64_t adds = 0, txn = -1;
      for (const auto& line : read_lines(f.path())) {
        json j = json::parse(line, nullptr, false);
        if (j.contains("add")) ++adds;
        if (j.contains("txn")) txn = j["txn"]["version"].get<int64_t>();
      }
      if (txn < 0) continue;
      ++commits;
      top = std::max(top, txn);
      EXPECT_GT(adds, 0) << "empty commit " << f.path();
    }
  }
  return out;
}

pid_t spawn(const Env& e, const std::string& args, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string cmd = "exec env " + e.env() + pinstream_binary().string() + " " + args + " >>'" +
                      log.string() + "' 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

TEST(Recovery, KillNineAtRandomMomentsLosesAndDoublesNothing) {
  Env e(2500, "", "", 60, /*archive=*/true);
  std::mt19937 rng(20261122);
  fs::path log = e.dir.path() / "daemon.log";
  int64_t total_read = 0;
  for (const auto& [name, c] : e.expected.counters) total_read += c.read;
  auto committed_reads = [&] {
    std::string stats;
    if (run_command(e.env() + pinstream_binary().string() + " query --config '" +
                        e.config.string() + "' --stats",
                    &stats, false) != 0)
      return int64_t{0};
    json s = json::parse(stats, nullptr, false);
    int64_t n = 0;
    if (s.is_object())
      for (const auto& [name, c] : s["streams"].items()) n += c["read"].get<int64_t>();
    return n;
  };
  int64_t last = 0;
  int progressed = 0;
  for (int round = 0; round < 8; ++round) {
    const size_t started = count_in_file(log, kDaemonUp);
    pid_t pid = spawn(e, "run --config '" + e.config.string() + "'", log);
    ASSERT_GT(pid, 0);
    // Kill -9 at a random instant while the daemon is consuming: counted from when it is up,
    // since its start takes longer on a loaded machine.
    ASSERT_TRUE(wait_until([&] { return count_in_file(log, kDaemonUp) > started; },
                           std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int64_t now = committed_reads();
    if (now > last) ++progressed;
    last = now;
  }
  // The kills really interrupted the work: some progress was committed, but not all of it.
  EXPECT_GT(progressed, 0);
  EXPECT_LT(last, total_read) << "the daemon finished before any kill; make the input larger";
  std::string out;
  ASSERT_EQ(e.pinstream("run --config '" + e.config.string() + "' --until-idle", &out), 0)
      << out << read_file(log);
  e.expect_exactly_once_and_views();
  e.expect_archive_holds_the_input_once();
  // Some tables got no rows in most epochs (dead letters, closed windows): they made
  // fewer commits than there were epochs, and none of them empty.
  auto commits = expect_no_empty_commits(e.dir.path() / "data/tables");
  ASSERT_TRUE(commits.count("pin") && commits.count("dead_letters"));
  EXPECT_LT(commits["dead_letters"].first, commits["pin"].second);
  std::string stats;
  ASSERT_EQ(run_command(e.env() + pinstream_binary().string() + " query --config '" +
                            e.config.string() + "' --stats",
                        &stats, false),
            0);
  json s = json::parse(stats);
  for (const auto& [name, c] : e.expected.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
  }
}

TEST(Recovery, CommitEveryKillNineInsideGroupsLosesAndDoublesNothing) {
  // Four epochs per Delta commit (checkpoints every 12 epochs, which also commit).
  Env e(1500, "checkpoint_every_epochs: 2", "checkpoint_every_epochs: 12", 60);
  std::string yaml = read_file(e.config);
  Env::replace(yaml, "  join_expired: join_expired",
               "  join_expired: join_expired\n  commit_every: 4");
  write_file(e.config, yaml);
  std::mt19937 rng(20261130);
  fs::path log = e.dir.path() / "daemon.log";
  for (int round = 0; round < 5; ++round) {
    const size_t started = count_in_file(log, kDaemonUp);
    pid_t pid = spawn(e, "run --config '" + e.config.string() + "'", log);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_until([&] { return count_in_file(log, kDaemonUp) > started; },
                           std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  std::string out;
  ASSERT_EQ(e.pinstream("run --config '" + e.config.string() + "' --until-idle", &out), 0)
      << out << read_file(log);
  e.expect_exactly_once_and_views();
  // Every commit but the run's last one ends a group: its txn is a multiple of 4.
  auto commits = expect_no_empty_commits(e.dir.path() / "data/tables");
  ASSERT_TRUE(commits.count("pin"));
  const int64_t last = commits["pin"].second;
  for (const auto& f : fs::directory_iterator(e.dir.path() / "data/tables/pin/_delta_log")) {
    if (f.path().extension() != ".json") continue;
    for (const auto& line : read_lines(f.path())) {
      json j = json::parse(line, nullptr, false);
      if (!j.contains("txn")) continue;
      const int64_t v = j["txn"]["version"].get<int64_t>();
      EXPECT_TRUE(v % 4 == 0 || v == last) << "txn " << v << " in " << f.path();
    }
  }
  EXPECT_LT(commits["pin"].first, last / 2);
  ASSERT_EQ(e.pinstream("verify --config '" + e.config.string() + "'", &out), 0) << out;
}

TEST(Recovery, SecondProcessOnTheSameDataDirGetsAClearError) {
  Env e(50);
  fs::path log = e.dir.path() / "daemon.log";
  pid_t pid = spawn(e, "run --config '" + e.config.string() + "'", log);
  ASSERT_TRUE(wait_until(
      [&] {
        return fs::exists(e.dir.path() / "data/LOCK") &&
               read_file(log).find("Query socket listening") != std::string::npos;
      },
      std::chrono::seconds(30)));
  std::string out;
  EXPECT_EQ(e.pinstream("run --config '" + e.config.string() + "'", &out), 2);
  EXPECT_NE(out.find("is in use by process"), std::string::npos) << out;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
}

TEST(Replay, FromAnEarlyCheckpointGivesIdenticalResults) {
  Env e(1200, "", "", 300, /*archive=*/true);
  std::string out;
  ASSERT_EQ(e.pinstream("run --config '" + e.config.string() + "' --until-idle", &out), 0) << out;
  e.expect_exactly_once_and_views();
  std::string list;
  ASSERT_EQ(e.pinstream("checkpoints --config '" + e.config.string() + "'", &list), 0) << list;
  auto lines = std::count(list.begin(), list.end(), '\n');
  ASSERT_GE(lines, 3) << list;
  std::string second = list.substr(list.find('\n') + 1);
  std::string id = second.substr(0, second.find(' '));
  ASSERT_EQ(e.pinstream("replay --config '" + e.config.string() + "' --from-checkpoint " + id +
                            " --until-idle",
                        &out),
            0)
      << out;
  e.expect_exactly_once_and_views();
  e.expect_archive_holds_the_input_once();
}

TEST(Replay, AfterAConfigChangeAppliesTheChangeToReprocessedRecords) {
  // First run without the title placeholder rule, then fix the config and replay from 0.
  Env e(600, "title: [\"No Title Data Available\"]", "title: [\"never matches\"]");
  std::string out;
  ASSERT_EQ(e.pinstream("run --config '" + e.config.string() + "' --until-idle", &out), 0) << out;
  auto count_placeholder = [&] {
    DeltaSnapshot snap = read_delta_log(e.dir.path() / "data/tables/pin");
    std::string js;
    EXPECT_EQ(duckdb_query("SELECT count(*) AS n FROM " + duckdb_scan(snap) +
                               " WHERE title = 'No Title Data Available'",
                           &js),
              0)
        << js;
    return json::parse(js)[0]["n"].get<int64_t>();
  };
  EXPECT_GT(count_placeholder(), 0) << "the broken rule should have kept some placeholders";
  std::string yaml = read_file(e.config);
  Env::replace(yaml, "title: [\"never matches\"]", "title: [\"No Title Data Available\"]");
  write_file(e.config, yaml);
  ASSERT_EQ(
      e.pinstream("replay --config '" + e.config.string() + "' --from-checkpoint 0 --until-idle",
                  &out),
      0)
      << out;
  EXPECT_EQ(count_placeholder(), 0);
  e.expect_exactly_once_and_views();
}

}  // namespace
}  // namespace pinstream::testing
