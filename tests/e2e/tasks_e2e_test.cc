// Tasks (SPEC section 9) with the default pipeline over S3-sink files keyed by `ind` in 6
// partitions: `pipeline.tasks: partitions` (6 tasks in one process, each with its own state
// under its key prefix) ends with the same tables and views as `single`, each Delta commit
// carrying one txn per task; so does a run killed with -9 and restarted. Switching mode over
// a non-empty state is refused (its state cannot be split by partition); a replay from
// checkpoint 0 rebuilds it in the new mode.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <random>
#include <set>
#include <thread>

#include "state/state_store.h"
#include "state/task_prefix.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kIdLine = "  id: ${PINSTREAM_ID:-pinterest}\n";
constexpr const char* kPartitions = "  id: ${PINSTREAM_ID:-pinterest}\n  tasks: partitions\n";

// The tables and views of the run at `data` (run's config and input), for comparing runs.
struct Outcome {
  std::map<std::string, std::string> tables;
  std::map<std::string, json> views;
  json streams;
  bool operator==(const Outcome&) const = default;
};

Outcome outcome(PipelineRun& run, const fs::path& data) {
  run.set_data(data);
  Outcome o;
  for (const auto& [table, columns, order] : kComparedTables)
    o.tables[table] = run.rows(table, columns, order);
  for (const char* v : kDefaultViews) {
    json a = run.query(v);
    EXPECT_TRUE(a.value("ok", false)) << a.dump();
    o.views[v] = a["rows"];
  }
  o.streams = run.stats()["streams"];
  for (auto& [name, s] : o.streams.items()) s.erase("lag");
  return o;
}

// `windows`: also the event-time windows' table (not for input that arrived in two
// --until-idle runs: the first one's end closes its windows).
void expect_equal(const Outcome& got, const Outcome& want, bool windows = true) {
  for (const auto& [t, rows] : want.tables)
    if (windows || t != "category_count_by_hour") {
      EXPECT_EQ(got.tables.at(t), rows) << t;
    }
  for (const auto& [v, rows] : want.views) EXPECT_EQ(got.views.at(v), rows) << v;
  EXPECT_EQ(got.streams, want.streams);
}

// The txn appIds of each pinstream commit of `table` (one set per commit), in log order.
std::vector<std::set<std::string>> commit_app_ids(const fs::path& table) {
  std::set<fs::path> commits;  // 20-digit names: in version order
  for (const auto& f : fs::directory_iterator(table / "_delta_log"))
    if (f.path().extension() == ".json" && f.path().stem().string().size() == 20)
      commits.insert(f.path());
  std::vector<std::set<std::string>> out;
  for (const auto& commit : commits) {
    std::set<std::string> apps;
    for (const auto& line : read_lines(commit)) {
      json j = json::parse(line, nullptr, false);
      if (j.contains("txn")) apps.insert(j["txn"]["appId"].get<std::string>());
    }
    if (!apps.empty()) out.push_back(apps);
  }
  return out;
}

// The stopped state at `data`: how many keys each task holds under each kind ("D/" dedup
// chunks, "a/" aggregate groups, ...), task 0's being the unprefixed ones.
std::map<int32_t, std::map<std::string, size_t>> state_keys(const fs::path& data) {
  std::map<int32_t, std::map<std::string, size_t>> out;
  state::StateStore::Options ro;
  ro.read_only = true;
  auto store = state::StateStore::open((data / "state").string(), ro);
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  if (!store) return out;
  EXPECT_TRUE((*store)
                  ->live()
                  .scan("",
                        [&](std::string_view k, std::string_view) {
                          auto task = state::task_of_key(k);
                          if (task) k.remove_prefix(state::task_prefix(*task).size());
                          out[task.value_or(0)][std::string(k.substr(0, k.find('/') + 1))]++;
                          return true;
                        })
                  .is_ok());
  return out;
}

class TasksE2E : public ::testing::Test {
 protected:
  // 6 partitions keyed by ind (ind % 6), small epochs so that a run has many.
  void SetUp() override {
    expected.write_input(run.raw(), 900, 6);
    single = run.dir().path() / "single";
    run.set_data(single);
    std::string out;
    ASSERT_EQ(run.run_until_idle(&out), 0) << out;
    clean = outcome(run, single);
    run.edit_config(kIdLine, kPartitions);
  }
  PipelineRun run{"pinstream-tasks", 240};
  ExpectedPipeline expected;
  fs::path single;
  Outcome clean;
};

TEST_F(TasksE2E, SixTasksInOneProcessEqualOneTask) {
  const fs::path data = run.dir().path() / "partitions";
  run.set_data(data);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  expect_equal(outcome(run, data), clean);
  // Every commit of the stream tables carries the six tasks' txns (all tasks are read from
  // the first epoch on: every partition holds records of each stream).
  std::set<std::string> six;
  for (int p = 0; p < 6; ++p) six.insert("pinstream-pinterest-p" + std::to_string(p));
  for (const char* t : {"pin", "geo", "user"}) {
    auto commits = commit_app_ids(data / "tables" / t);
    ASSERT_GT(commits.size(), 3u) << t;
    for (const auto& apps : commits) EXPECT_EQ(apps, six) << t;
  }
  run.set_data(data);
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("  txn pinstream-pinterest-p5: "), std::string::npos) << out;
  // Each task's state is its own: dedup claims, join names and aggregate groups under
  // "t<p>/" for p > 0, task 0 on the unprefixed keys; the single run's all unprefixed.
  auto keys = state_keys(data);
  ASSERT_EQ(keys.size(), 6u);
  size_t medians = 0, closed = 0;
  for (int32_t p = 0; p < 6; ++p) {
    for (const char* kind : {"D/", "a/", "jc/"})
      EXPECT_GT(keys[p][kind], 0u) << "task " << p << " " << kind;
    if (p > 0) medians += keys[p]["h/"], closed += keys[p]["w/"];
  }
  EXPECT_GT(medians, 0u);
  EXPECT_GT(closed, 0u);
  EXPECT_EQ(state_keys(single).size(), 1u);
  EXPECT_EQ(run.query(kDefaultViews[0])["tasks"], json({{"covered", 6}, {"total", 6}}));
  // A live answer merges the six tasks' partials too, and says so.
  fs::path log = run.dir().path() / "live.log";
  pid_t pid = run.spawn("", log);
  ASSERT_GT(pid, 0);
  const std::string sock = (data / "pinstream.sock").string();
  json live;
  EXPECT_TRUE(wait_until(
      [&] {
        std::string answer;
        if (run_command(pinstream_binary().string() + " query --socket '" + sock + "' " +
                            kDefaultViews[0] + " --format json",
                        &answer, false) != 0)
          return false;
        live = json::parse(answer, nullptr, false);
        return live.is_object() && live.value("ok", false);
      },
      std::chrono::seconds(30)))
      << read_file(log);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(live["tasks"], json({{"covered", 6}, {"total", 6}})) << live.dump();
  EXPECT_EQ(live["rows"], clean.views[kDefaultViews[0]]);
  // Counters per task: each task read its partition's lines, and the tasks add up.
  json stats = run.stats();
  ASSERT_EQ(stats["tasks"].size(), 6u) << stats.dump();
  for (const char* s : {"pin", "geo", "user"}) {
    json sum = json::object();
    for (int p = 0; p < 6; ++p) {
      const json& c = stats["tasks"][std::to_string(p)][s];
      size_t lines = 0;
      for (const auto& f :
           fs::directory_iterator(run.raw() / "topics" / ("pinterest." + std::string(s)) /
                                  ("partition=" + std::to_string(p))))
        lines += read_lines(f.path()).size();
      EXPECT_EQ(c["read"].get<size_t>(), lines) << s << " task " << p;
      for (const char* k : {"read", "clean", "dead", "duplicates", "late"})
        sum[k] = sum.value(k, int64_t{0}) + c[k].get<int64_t>();
    }
    for (const char* k : {"read", "clean", "dead", "duplicates", "late"})
      EXPECT_EQ(sum[k], stats["streams"][s][k]) << s << " " << k;
  }
  // A replay starts generation 1: its commits carry "-p<p>-g1", and it ends equal again.
  ASSERT_EQ(run.pinstream("replay --config '" + run.config().string() +
                              "' --from-checkpoint 00000002 --until-idle",
                          &out),
            0)
      << out;
  expect_equal(outcome(run, data), clean);
  std::set<std::string> six_g1;
  for (int p = 0; p < 6; ++p) six_g1.insert("pinstream-pinterest-p" + std::to_string(p) + "-g1");
  EXPECT_EQ(commit_app_ids(data / "tables/pin").back(), six_g1);
  run.set_data(data);
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  // The single run's tables carry the one appId of before.
  for (const auto& apps : commit_app_ids(single / "tables/pin"))
    EXPECT_EQ(apps, std::set<std::string>{"pinstream-pinterest-g0"});
}

TEST_F(TasksE2E, KillNineInPartitionsModeEndsEqualToACleanRun) {
  const fs::path data = run.dir().path() / "killed";
  run.set_data(data);
  fs::path log = run.dir().path() / "daemon.log";
  std::mt19937 rng(20261130);
  auto reads = [](const json& stats) {
    int64_t n = 0;
    if (stats.is_object() && stats.contains("streams"))
      for (const auto& [name, c] : stats["streams"].items()) n += c.value("read", int64_t{0});
    return n;
  };
  int64_t last = 0;
  int progressed = 0;
  for (int round = 0; round < 4; ++round) {
    const size_t started = count_in_file(log, kDaemonUp);
    pid_t pid = run.spawn("", log);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_until([&] { return count_in_file(log, kDaemonUp) > started; },
                           std::chrono::seconds(30)))
        << read_file(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 150));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int64_t now = reads(run.stats());
    if (now > last) ++progressed;
    last = now;
  }
  // The kills interrupted the work: some progress was committed, but not all of it.
  EXPECT_GT(progressed, 0) << read_file(log);
  EXPECT_LT(last, reads(json{{"streams", clean.streams}}))
      << "the daemon finished before the kills; make the input larger";
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out << read_file(log);
  expect_equal(outcome(run, data), clean);
  run.set_data(data);
  EXPECT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
}

// A state written in `single` mode cannot go on in `partitions` mode: its claims, parts and
// groups are not split by partition. The restart is refused with exit 2 naming the data
// directory, the mode and the ways out, and changes nothing; `replay --from-checkpoint 0`
// rebuilds it all in the new mode, equal to the clean run. Back to `single` is refused too.
TEST_F(TasksE2E, SwitchingModeOverAStateIsRefusedAndAReplayRebuildsIt) {
  const fs::path data = run.dir().path() / "switched";
  run.set_data(data);
  run.edit_config(kPartitions, kIdLine);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  const auto before = commit_app_ids(data / "tables/pin");
  run.edit_config(kIdLine, kPartitions);
  ASSERT_EQ(run.run_until_idle(&out), 2) << out;
  EXPECT_NE(out.find("data directory " + data.string() +
                     " holds state written with pipeline.tasks: single"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("keep pipeline.tasks: single"), std::string::npos) << out;
  EXPECT_NE(out.find("--from-checkpoint 00000000"), std::string::npos) << out;
  EXPECT_EQ(commit_app_ids(data / "tables/pin"), before) << "nothing was committed";
  ASSERT_EQ(run.pinstream("replay --config '" + run.config().string() +
                              "' --from-checkpoint 00000000 --until-idle",
                          &out),
            0)
      << out;
  expect_equal(outcome(run, data), clean);
  run.set_data(data);
  ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  std::set<std::string> six_g1;
  for (int p = 0; p < 6; ++p) six_g1.insert("pinstream-pinterest-p" + std::to_string(p) + "-g1");
  EXPECT_EQ(commit_app_ids(data / "tables/pin").back(), six_g1);
  EXPECT_EQ(state_keys(data).size(), 6u);
  run.edit_config(kPartitions, kIdLine);
  EXPECT_EQ(run.run_until_idle(&out), 2) << out;
  EXPECT_NE(out.find("holds state written with pipeline.tasks: partitions"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace pinstream::testing
