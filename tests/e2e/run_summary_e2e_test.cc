// `--summary FILE` as a scheduler reads it: after a run over a known input its counts equal
// the independent model's, its positions and versions equal the committed state and the
// Delta logs, a second run accounts only for what it did itself, a daemon stopped with
// SIGTERM still writes one, and a failed run writes its exit status and error.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

json read_summary(const fs::path& p) { return json::parse(read_file(p), nullptr, false); }

// The greatest N with <table>/_delta_log/N.json.
int64_t last_version(const fs::path& table) {
  int64_t v = -1;
  for (const auto& e : fs::directory_iterator(table / "_delta_log")) {
    const std::string name = e.path().filename().string();
    if (name.size() == 25 && name.ends_with(".json"))
      v = std::max<int64_t>(v, std::stoll(name.substr(0, 20)));
  }
  return v;
}

TEST(RunSummary, AvailableNowRunAccountsForExactlyWhatItDid) {
  PipelineRun run("ps-summary");
  ExpectedPipeline model;
  model.write_input(run.raw(), 120);
  const fs::path file = run.dir().path() / "summary.json";
  std::string out;
  ASSERT_EQ(run.pinstream("run --config '" + run.config().string() +
                              "' --available-now --summary '" + file.string() + "'",
                          &out),
            0)
      << out;
  json s = read_summary(file);
  ASSERT_TRUE(s.is_object()) << read_file(file);
  EXPECT_EQ(s["command"], "run");
  EXPECT_EQ(s["mode"], "available-now");
  EXPECT_EQ(s["exit_status"], 0);
  EXPECT_TRUE(s["error"].is_null());
  EXPECT_GE(s["seconds"].get<double>(), 0.0);
  EXPECT_LT(s["started_at"].get<std::string>(), s["ended_at"].get<std::string>());
  for (const auto& [name, c] : model.counters) {
    const json& got = s["streams"][name];
    EXPECT_EQ(got["read"], c.read) << name;
    EXPECT_EQ(got["clean"], c.clean) << name;
    EXPECT_EQ(got["dead"], c.dead) << name;
    EXPECT_EQ(got["duplicates"], c.duplicates) << name;
    EXPECT_EQ(got["late"], c.late) << name;
  }
  json stats = run.stats();
  EXPECT_EQ(s["epochs"]["before"], 0);
  EXPECT_EQ(s["epochs"]["last"], stats["epoch"]);
  EXPECT_EQ(s["epochs"]["committed"], stats["epoch"]);
  ASSERT_EQ(s["partitions"].size(), stats["positions"].size());
  for (const auto& [id, pos] : stats["positions"].items()) {
    EXPECT_TRUE(s["partitions"][id]["from"].is_null()) << id;
    EXPECT_EQ(s["partitions"][id]["to"], pos) << id;
    EXPECT_TRUE(s["partitions"][id]["end"].is_string()) << id;
  }
  for (const char* t : {"pin", "geo", "user", "dead_letters"}) {
    const int64_t v = last_version(run.tables() / t);
    EXPECT_EQ(s["tables"][t]["version_after"], v) << t;
    EXPECT_LT(s["tables"][t]["version_before"].get<int64_t>(), v) << t;
    EXPECT_EQ(s["tables"][t]["committed"][1], v) << t;
  }
  ASSERT_EQ(run.pinstream("checkpoints --config '" + run.config().string() + "'", &out, false), 0);
  EXPECT_NE(out.find(s["checkpoint"]["id"].get<std::string>()), std::string::npos) << out;

  // A second run finds nothing new: it reads nothing and commits no table version.
  const json first = s;
  ASSERT_EQ(run.pinstream("run --config '" + run.config().string() +
                              "' --available-now --summary '" + file.string() + "'",
                          &out),
            0)
      << out;
  s = read_summary(file);
  for (const auto& [name, c] : model.counters) EXPECT_EQ(s["streams"][name]["read"], 0) << name;
  for (const auto& [id, p] : first["partitions"].items()) {
    EXPECT_EQ(s["partitions"][id]["from"], p["to"]) << id;
    EXPECT_EQ(s["partitions"][id]["to"], p["to"]) << id;
  }
  EXPECT_EQ(s["epochs"]["before"], first["epochs"]["last"]);
  for (const char* t : {"pin", "geo", "user"})
    EXPECT_TRUE(s["tables"][t]["committed"].is_null()) << t;
}

TEST(RunSummary, ReplayAvailableNowFromTheLatestCheckpointReadsNothingNew) {
  PipelineRun run("ps-summary-replay");
  ExpectedPipeline model;
  model.write_input(run.raw(), 30);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  out.clear();
  ASSERT_EQ(run.pinstream("replay --config '" + run.config().string() +
                              "' --from-checkpoint latest --available-now --summary -",
                          &out, false),
            0)
      << out;
  json s = json::parse(out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << out;
  EXPECT_EQ(s["command"], "replay");
  EXPECT_EQ(s["mode"], "available-now");
  EXPECT_EQ(s["exit_status"], 0);
  // The latest checkpoint is the last epoch: nothing is read again.
  for (const auto& [name, c] : model.counters) EXPECT_EQ(s["streams"][name]["read"], 0) << name;
  EXPECT_EQ(run.stats()["streams"]["pin"]["read"], model.counters["pin"].read);
}

TEST(RunSummary, ADaemonStoppedWithSigtermWritesItsSummary) {
  PipelineRun run("ps-summary-term");
  ExpectedPipeline model;
  model.write_input(run.raw(), 60);
  const fs::path log = run.dir().path() / "daemon.log";
  pid_t pid = run.spawn("--summary '" + (run.dir().path() / "s.json").string() + "'", log);
  ASSERT_TRUE(wait_until(
      [&] {
        std::string out;
        run.pinstream("query --config '" + run.config().string() + "' --stats", &out, false);
        json j = json::parse(out, nullptr, false);
        return j.is_object() && j["streams"].is_object() && j["streams"]["pin"].is_object() &&
               j["streams"]["pin"].value("read", int64_t{0}) == model.counters["pin"].read;
      },
      std::chrono::seconds(30)))
      << read_file(log);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
  json s = read_summary(run.dir().path() / "s.json");
  ASSERT_TRUE(s.is_object()) << read_file(log);
  EXPECT_EQ(s["mode"], "daemon");
  EXPECT_EQ(s["exit_status"], 0);
  for (const auto& [name, c] : model.counters)
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
}

TEST(RunSummary, AFailedReplayWritesItsExitStatusAndError) {
  PipelineRun run("ps-summary-fail");
  ExpectedPipeline model;
  model.write_input(run.raw(), 20);
  ASSERT_EQ(run.run_until_idle(), 0);
  std::string out;
  EXPECT_EQ(run.pinstream("replay --config '" + run.config().string() +
                              "' --from-checkpoint 99999 --summary -",
                          &out, false),
            2);
  json s = json::parse(out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << out;
  EXPECT_EQ(s["command"], "replay");
  EXPECT_EQ(s["exit_status"], 2);
  EXPECT_NE(s["error"].get<std::string>().find("99999"), std::string::npos) << s["error"];
  // Usage errors: the demo has no summary, and the two stop conditions exclude each other.
  EXPECT_EQ(run_command(pinstream_binary().string() + " run --summary -", &out), 2) << out;
  EXPECT_EQ(run.pinstream(
                "run --config '" + run.config().string() + "' --until-idle --available-now", &out),
            2)
      << out;
}

}  // namespace
}  // namespace pinstream::testing
