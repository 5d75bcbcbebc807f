// Table upkeep with the built binary (SPEC section 5): `pinstream optimize` beside a live
// daemon committing to the same tables, auto-compaction inside the daemon, kill -9 of an
// optimize, and `pinstream vacuum` after replay and optimize (dry run, orphans, retention
// below the default, checkpoints pruned first); every table keeps its rows (DuckDB) and
// `pinstream verify` agrees.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <utime.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;

const char* const kTables[] = {"pin", "geo", "user"};
const std::string kRoot = "  root: ${PINSTREAM_TABLES:-}";

// Whether table `name` has a commit whose commitInfo operation is OPTIMIZE.
bool optimized(const PipelineRun& run, const std::string& name) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run.tables() / name / "_delta_log", ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("\"operation\":\"OPTIMIZE\"") != std::string::npos) return true;
  }
  return false;
}

int stop(pid_t pid, int sig) {
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Kills a spawned daemon when the test returns early (a failed ASSERT), so that none
// outlives its test; disarmed once the test has stopped it itself.
struct KillOnExit {
  pid_t pid;
  ~KillOnExit() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

TEST(Upkeep, OptimizeBesideALiveDaemonKeepsEveryRow) {
  PipelineRun run("ps-upkeep-cli", 40);
  ExpectedPipeline().write_input(run.raw(), 300);
  run.edit_config(kRoot, "  upkeep: {auto_compact: false, min_files: 4}\n" + kRoot);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  std::map<std::string, std::multiset<int64_t>> want;
  for (const char* t : kTables) want[t] = run.keys(t);
  // The daemon runs (committing the epochs that get rows) while optimize commits beside it.
  pid_t pid = run.spawn("", run.dir().path() / "daemon.log");
  KillOnExit guard{pid};
  ASSERT_EQ(run.pinstream("optimize --config '" + run.config().string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("compacted into 1 "), std::string::npos) << out;
  for (const char* t : kTables) {
    EXPECT_TRUE(optimized(run, t)) << t;
    EXPECT_EQ(run.keys(t), want[t]) << t;
  }
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(run.dir().path() / "daemon.log");
  guard.pid = 0;
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  // Nothing left to do: a second optimize commits nothing.
  ASSERT_EQ(run.pinstream("optimize --config '" + run.config().string() + "' --table pin", &out), 0)
      << out;
  EXPECT_NE(out.find("in 0 commits"), std::string::npos) << out;
}

TEST(Upkeep, TheDaemonCompactsByItselfAndAKilledOptimizeLosesNothing) {
  PipelineRun run("ps-upkeep-auto", 40);
  ExpectedPipeline().write_input(run.raw(), 300);
  run.edit_config(kRoot, "  upkeep: {min_files: 4, check_interval_ms: 50}\n" + kRoot);
  std::string out;
  pid_t pid = run.spawn("", run.dir().path() / "daemon.log");
  KillOnExit guard{pid};
  ASSERT_TRUE(wait_until([&] { return optimized(run, "pin") && optimized(run, "user"); },
                         std::chrono::seconds(60)))
      << read_file(run.dir().path() / "daemon.log");
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(run.dir().path() / "daemon.log");
  guard.pid = 0;
  // A clean run of the same input, without compaction, holds the same rows.
  PipelineRun clean("ps-upkeep-clean", 40);
  ExpectedPipeline().write_input(clean.raw(), 300);
  clean.edit_config(kRoot, "  upkeep: {auto_compact: false, min_files: 4}\n" + kRoot);
  ASSERT_EQ(clean.run_until_idle(&out), 0) << out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;  // whatever the stop left
  std::map<std::string, std::multiset<int64_t>> want;
  for (const char* t : kTables) {
    want[t] = clean.keys(t);
    EXPECT_EQ(run.keys(t), want[t]) << t;
  }
  // kill -9 of an optimize of the uncompacted tables, at once and later: the tables stay
  // readable and equal; a full optimize afterwards too.
  const std::string opt_cmd = "exec env " + clean.env() + "'" + pinstream_binary().string() +
                              "' optimize --config '" + clean.config().string() + "'";
  for (int delay_ms : {0, 100, 300}) {
    pid_t opt = ::fork();
    if (opt == 0) {
      ::execl("/bin/sh", "sh", "-c", opt_cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    stop(opt, SIGKILL);
    for (const char* t : kTables) EXPECT_EQ(clean.keys(t), want[t]) << t << " " << delay_ms;
  }
  ASSERT_EQ(clean.pinstream("optimize --config '" + clean.config().string() + "'", &out), 0) << out;
  for (const char* t : kTables) {
    EXPECT_TRUE(optimized(clean, t)) << t;
    EXPECT_EQ(clean.keys(t), want[t]) << t;
  }
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  ASSERT_EQ(clean.pinstream("verify --config '" + clean.config().string() + "'", &out), 0) << out;
}

// The Parquet files in a table's directory (live or not).
size_t data_files(const PipelineRun& run, const std::string& name) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(run.tables() / name))
    if (e.path().extension() == ".parquet" &&
        e.path().string().find("_delta_log") == std::string::npos)
      ++n;
  return n;
}

size_t live_files(const PipelineRun& run, const std::string& name) {
  return read_delta_log(run.tables() / name).files.size();
}

// An uncommitted copy of a live file, as a crashed epoch leaves one, `age` old.
fs::path orphan(const PipelineRun& run, const std::string& table, const std::string& name,
                std::chrono::seconds age) {
  const fs::path to = run.tables() / table / name;
  fs::copy_file(read_delta_log(run.tables() / table).files.at(0), to);
  struct utimbuf t {};
  t.actime = t.modtime = ::time(nullptr) - static_cast<time_t>(age.count());
  EXPECT_EQ(::utime(to.c_str(), &t), 0);
  return to;
}

// `pinstream ARGS` with its output (stdout and stderr) in a fresh `out`.
int cli(const PipelineRun& run, const std::string& args, std::string* out) {
  out->clear();
  return run.pinstream(args, out);
}

TEST(Upkeep, VacuumDeletesWhatReplayAndOptimizeRemovedAndKeepsEveryRow) {
  PipelineRun run("ps-upkeep-vacuum", 40);
  ExpectedPipeline().write_input(run.raw(), 300);
  run.edit_config(kRoot, "  upkeep: {auto_compact: false, min_files: 4}\n" + kRoot);
  const std::string cfg = "--config '" + run.config().string() + "'";
  std::string out, list;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  std::map<std::string, std::string> want;
  for (const char* t : kTables) want[t] = run.rows(t);
  // replay (RESTORE removes the later files, reprocessing adds new ones), then optimize.
  ASSERT_EQ(cli(run, "checkpoints " + cfg, &list), 0) << list;
  ASSERT_GE(std::count(list.begin(), list.end(), '\n'), 2) << list;
  const std::string first = list.substr(0, list.find(' '));
  ASSERT_EQ(cli(run, "replay " + cfg + " --from-checkpoint " + first + " --until-idle", &out), 0)
      << out;
  ASSERT_EQ(cli(run, "optimize " + cfg, &out), 0) << out;
  const fs::path crashed =
      orphan(run, "pin", "part-crashed-epoch.snappy.parquet", std::chrono::hours(24 * 30));
  const fs::path running =
      orphan(run, "pin", "part-running-epoch.snappy.parquet", std::chrono::seconds(5));
  std::map<std::string, size_t> files;
  for (const char* t : kTables) {
    files[t] = data_files(run, t);
    EXPECT_GT(files[t], live_files(run, t) + 1) << t;
  }
  // A dry run with a retention below the default: warns, lists, deletes nothing.
  ASSERT_EQ(cli(run, "checkpoints " + cfg, &list), 0) << list;
  ASSERT_EQ(cli(run, "vacuum " + cfg + " --dry-run --retain 0h", &out), 0) << out;
  EXPECT_NE(out.find("warning: --retain 0h is below table pin's retention of 7 days"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("would prune "), std::string::npos) << out;
  EXPECT_NE(out.find("pin: would delete "), std::string::npos) << out;
  EXPECT_NE(out.find(" 1 orphans)"), std::string::npos) << out;
  for (const char* t : kTables) EXPECT_EQ(data_files(run, t), files[t]) << t;
  ASSERT_EQ(cli(run, "checkpoints " + cfg, &out), 0);
  EXPECT_EQ(out, list);
  // The default retention (7 days): only the month-old orphan goes.
  ASSERT_EQ(cli(run, "vacuum " + cfg, &out), 0) << out;
  EXPECT_EQ(out.find("warning"), std::string::npos) << out;
  EXPECT_NE(out.find("pin: deleted 1 files"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(crashed));
  EXPECT_EQ(data_files(run, "pin"), files["pin"] - 1);
  // 0h: the checkpoints first (replay from them would need the files), then every file no
  // version needs but the orphan a running epoch could still commit.
  ASSERT_EQ(cli(run, "vacuum " + cfg + " --retain 0h", &out), 0) << out;
  EXPECT_NE(out.find("pruning "), std::string::npos) << out;
  EXPECT_LT(out.find("pruning "), out.find("pin: deleted ")) << out;
  EXPECT_TRUE(fs::exists(running));
  for (const char* t : kTables) {
    EXPECT_EQ(data_files(run, t), live_files(run, t) + (t == std::string("pin") ? 1 : 0)) << t;
    EXPECT_EQ(run.rows(t), want[t]) << t;
  }
  ASSERT_EQ(cli(run, "verify " + cfg, &out), 0) << out;
  // Durations that are not ones: configuration errors (exit 2) naming the option.
  for (const char* bad : {"7", "1w", "-1h", "1.5h", "'7 days'"}) {
    EXPECT_EQ(cli(run, "vacuum " + cfg + " --retain " + bad, &out), 2) << bad << out;
    EXPECT_NE(out.find("--retain"), std::string::npos) << out;
  }
  EXPECT_EQ(cli(run, "vacuum " + cfg + " --table no_such_table", &out), 2) << out;
  EXPECT_NE(out.find("--table no_such_table: no Delta table"), std::string::npos) << out;
}

// Whether the file at `path` holds `text`.
bool log_has(const fs::path& path, const std::string& text) {
  return read_file(path).find(text) != std::string::npos;
}

// The table's live files as a set of paths.
std::set<std::string> live_set(const PipelineRun& run, const std::string& name) {
  auto files = read_delta_log(run.tables() / name).files;
  return {files.begin(), files.end()};
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

TEST(Upkeep, TheDaemonVacuumsOnItsScheduleKeepingYoungOrphansAndCheckpointFiles) {
  PipelineRun run("ps-upkeep-sched-vacuum", 40);
  const fs::path all = run.dir().path() / "all", later = run.dir().path() / "later";
  ExpectedPipeline().write_input(all, 300);
  split_input(all, run.raw(), later);
  // One checkpoint kept: the files it needs are known below.
  run.edit_config("checkpoint_retention: 20", "checkpoint_retention: 1");
  run.edit_config(kRoot, "  upkeep: {auto_compact: false, min_files: 4}\n" + kRoot);
  const std::string cfg = "--config '" + run.config().string() + "'";
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  // Removed by this OPTIMIZE, before the checkpoint that will be kept: deletable.
  const auto run1 = live_set(run, "pin");
  ASSERT_EQ(cli(run, "optimize " + cfg + " --table pin", &out), 0) << out;
  const auto deletable = minus(run1, live_set(run, "pin"));
  ASSERT_FALSE(deletable.empty());
  fs::copy(later, run.raw(), fs::copy_options::recursive);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  // Removed by this one, after the kept checkpoint: that checkpoint still needs them.
  const auto run2 = live_set(run, "pin");
  ASSERT_EQ(cli(run, "optimize " + cfg + " --table pin", &out), 0) << out;
  const auto needed = minus(run2, live_set(run, "pin"));
  ASSERT_FALSE(needed.empty());
  std::map<std::string, std::string> want;
  for (const char* t : kTables) want[t] = run.rows(t);
  const fs::path crashed =
      orphan(run, "pin", "part-crashed-epoch.snappy.parquet", std::chrono::hours(24 * 30));
  const fs::path running =
      orphan(run, "pin", "part-running-epoch.snappy.parquet", std::chrono::seconds(5));
  // The shortest retention: only the kept checkpoint and the young orphan keep a file.
  run.edit_config("  upkeep: {auto_compact: false, min_files: 4}",
                  "  upkeep: {auto_compact: false, vacuum_interval: 1h, vacuum_retain: 0h}");
  const fs::path log = run.dir().path() / "daemon-vacuum.log";
  pid_t pid = run.spawn("", log);
  KillOnExit guard{pid};
  ASSERT_TRUE(wait_until([&] { return log_has(log, "scheduled vacuum: table pin: deleted"); },
                         std::chrono::seconds(60)))
      << read_file(log);
  // The metrics count the round and what it deleted.
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        metrics.clear();
        run.pinstream("query " + cfg + " --metrics", &metrics, false);
        return metrics.find("pinstream_vacuum_runs_total 1") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << metrics;
  EXPECT_EQ(metrics.find("pinstream_vacuum_files_deleted_total 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pinstream_vacuum_files_deleted_total "), std::string::npos) << metrics;
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(log);
  guard.pid = 0;
  EXPECT_TRUE(log_has(log, "vacuum_retain 0 seconds is below table pin's retention of 7 days"))
      << read_file(log);
  EXPECT_FALSE(fs::exists(crashed));
  EXPECT_TRUE(fs::exists(running));
  for (const auto& f : deletable) EXPECT_FALSE(fs::exists(f)) << f;
  for (const auto& f : needed) EXPECT_TRUE(fs::exists(f)) << f;
  for (const char* t : kTables) EXPECT_EQ(run.rows(t), want[t]) << t;
  // Everything still agrees: replay from the newest checkpoint, verify.
  ASSERT_EQ(cli(run, "replay " + cfg + " --from-checkpoint latest --until-idle", &out), 0) << out;
  for (const char* t : kTables) EXPECT_EQ(run.rows(t), want[t]) << t;
  ASSERT_EQ(cli(run, "verify " + cfg, &out), 0) << out;
}

TEST(Upkeep, BadScheduledVacuumSettingsAreConfigurationErrors) {
  std::string out;
  struct Case {
    std::string setting, message;
  };
  for (const Case& c : std::vector<Case>{
           {"vacuum_interval: 7", "key 'tables.upkeep.vacuum_interval': '7' is not a duration"},
           {"vacuum_interval: 0h", "key 'tables.upkeep.vacuum_interval': '0h' is not a duration"},
           {"vacuum_retain: 1w", "key 'tables.upkeep.vacuum_retain': '1w' is not a duration"},
           {"vacuum_retain: off", "key 'tables.upkeep.vacuum_retain': 'off' is not a duration"}}) {
    PipelineRun bad("ps-upkeep-vacuum-bad", 40);
    bad.edit_config(kRoot, "  upkeep: {" + c.setting + "}\n" + kRoot);
    EXPECT_EQ(bad.run_until_idle(&out), 2) << c.setting << out;
    EXPECT_NE(out.find(bad.config().string() + ":"), std::string::npos) << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace pinstream::testing
