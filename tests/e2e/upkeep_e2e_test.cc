// Table upkeep with the built binary (SPEC section 5): `pinstream optimize` beside a live
// daemon committing to the same tables, auto-compaction inside the daemon, and kill -9 of
// an optimize; every table keeps its rows and `pinstream verify` agrees.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

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

TEST(Upkeep, OptimizeBesideALiveDaemonKeepsEveryRow) {
  PipelineRun run("ps-upkeep-cli", 40);
  ExpectedPipeline().write_input(run.raw(), 300);
  run.edit_config(kRoot, "  upkeep: {auto_compact: false, min_files: 4}\n" + kRoot);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  std::map<std::string, std::multiset<int64_t>> want;
  for (const char* t : kTables) want[t] = run.keys(t);
  // The daemon commits every epoch (empty ones too) while optimize commits beside it.
  pid_t pid = run.spawn("", run.dir().path() / "daemon.log");
  ASSERT_EQ(run.pinstream("optimize --config '" + run.config().string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("compacted into 1 "), std::string::npos) << out;
  for (const char* t : kTables) {
    EXPECT_TRUE(optimized(run, t)) << t;
    EXPECT_EQ(run.keys(t), want[t]) << t;
  }
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(run.dir().path() / "daemon.log");
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  // Nothing left to do: a second optimize commits nothing.
  ASSERT_EQ(run.pinstream("optimize --config '" + run.config().string() + "' --table pin", &out),
            0) << out;
  EXPECT_NE(out.find("in 0 commits"), std::string::npos) << out;
}

TEST(Upkeep, TheDaemonCompactsByItselfAndAKilledOptimizeLosesNothing) {
  PipelineRun run("ps-upkeep-auto", 40);
  ExpectedPipeline().write_input(run.raw(), 300);
  run.edit_config(kRoot, "  upkeep: {min_files: 4, check_interval_ms: 50}\n" + kRoot);
  std::string out;
  pid_t pid = run.spawn("", run.dir().path() / "daemon.log");
  ASSERT_TRUE(wait_until([&] { return optimized(run, "pin") && optimized(run, "user"); },
                         std::chrono::seconds(60)))
      << read_file(run.dir().path() / "daemon.log");
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(run.dir().path() / "daemon.log");
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
  ASSERT_EQ(clean.pinstream("optimize --config '" + clean.config().string() + "'", &out), 0)
      << out;
  for (const char* t : kTables) {
    EXPECT_TRUE(optimized(clean, t)) << t;
    EXPECT_EQ(clean.keys(t), want[t]) << t;
  }
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  ASSERT_EQ(clean.pinstream("verify --config '" + clean.config().string() + "'", &out), 0)
      << out;
}

}  // namespace
}  // namespace pinstream::testing
