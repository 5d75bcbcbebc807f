// `pinstream redrive` after a configuration fix: every pin record was rejected by a wrong
// input type; once the configuration is fixed, redrive lets the records that now clean
// enter the pipeline once (dedup on the key applies), leaves the malformed ones dead, takes
// nothing a second time, and the result equals a clean run over the fixed configuration;
// the same through a running daemon's socket, with two redrives sent at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "connectors/parquet/reader.h"
#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;

// Every view but the windowed one (the runs close their windows at different moments).
const char* kViews[] = {
    "most_popular_category_by_country",   "category_count_by_year",
    "most_popular_category_by_year",      "most_followed_user_by_country",
    "country_with_most_followed_user",    "most_popular_category_by_age_group",
    "median_follower_count_by_age_group", "users_joined_by_year",
    "median_follower_count_by_join_year", "median_follower_count_by_age_group_and_join_year"};

// The `ind` keys of a table's active files, with multiplicity.
std::multiset<int64_t> keys_of(const std::filesystem::path& table) {
  std::multiset<int64_t> keys;
  for (const auto& file : read_delta_log(table).files) {
    auto contents = connectors::parquet::read_file(file);
    EXPECT_TRUE(contents.has_value()) << file;
    if (!contents) continue;
    for (const auto& leaf : contents->leaves)
      if (!leaf.spec.path.empty() && leaf.spec.path.back() == "ind")
        for (const auto& v : leaf.values) keys.insert(v.i);
  }
  return keys;
}

TEST(Redrive, FixedConfigurationRedrivenTwiceLandsEachRecordOnceAndEqualsACleanRun) {
  PipelineRun run("ps-redrive");
  ExpectedPipeline model;
  model.write_input(run.raw(), 150);
  const ExpectedCounters& pin = model.counters["pin"];
  ASSERT_GT(pin.dead, 0);  // malformed pins: they must stay dead letters
  run.edit_config("      downloaded: long", "      downloaded: bool");
  std::string out;
  out.clear();
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  json s = run.stats();
  ASSERT_EQ(s["streams"]["pin"]["clean"], 0);
  ASSERT_EQ(s["streams"]["pin"]["dead"], pin.read);
  run.edit_config("      downloaded: bool", "      downloaded: long");
  const std::string cfg = " --config '" + run.config().string() + "'";

  // A dry run and a run for another stream change nothing.
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg + " --dry-run", &out, false), 0) << out;
  EXPECT_NE(out.find("pin: " + std::to_string(pin.read) + " selected, " +
                     std::to_string(pin.read - pin.dead) + " would be redriven, " +
                     std::to_string(pin.dead) + " still failing"),
            std::string::npos)
      << out;
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg + " --stream geo", &out, false), 0) << out;
  EXPECT_EQ(run.stats()["streams"]["pin"]["clean"], 0);
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg + " --stream nosuch", &out, false), 2) << out;

  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg + " --stream pin", &out), 0) << out;
  EXPECT_NE(out.find(std::to_string(pin.read - pin.dead) + " redriven"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg, &out, false), 0) << out;  // nothing left to take
  EXPECT_NE(out.find("pin: " + std::to_string(pin.dead) + " selected, 0 redriven"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(std::to_string(pin.read - pin.dead) + " redriven"), std::string::npos) << out;

  s = run.stats();
  for (const auto& [name, c] : model.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["clean"], c.clean) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
  }
  const std::multiset<int64_t> keys = keys_of(run.tables() / "pin");
  EXPECT_EQ(std::set<int64_t>(keys.begin(), keys.end()).size(), keys.size());  // each once
  std::map<std::string, json> views;
  for (const char* v : kViews) views[v] = run.query(v)["rows"];

  run.set_data(run.dir().path() / "clean");
  out.clear();
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  EXPECT_EQ(keys_of(run.tables() / "pin"), keys);
  EXPECT_EQ(static_cast<int64_t>(keys.size()), pin.clean);
  for (const char* v : kViews) EXPECT_EQ(run.query(v)["rows"], views[v]) << v;
  EXPECT_EQ(json(model.view("category_count_by_year")), views["category_count_by_year"]);
}

// "<stream>: N selected, M redriven, ..." -> M (-1 when the line is missing).
int64_t redriven_in(const std::string& out, const std::string& stream) {
  const size_t at = out.find(stream + ": ");
  long long selected = -1, redriven = -1;
  if (at == std::string::npos ||
      std::sscanf(out.c_str() + at + stream.size() + 2, "%lld selected, %lld redriven", &selected,
                  &redriven) != 2)
    return -1;
  return redriven;
}

TEST(Redrive, ThroughTheRunningDaemonTwiceAtOnceLandsEachRecordOnceAndEqualsACleanRun) {
  PipelineRun run("ps-redrive-daemon");
  ExpectedPipeline model;
  model.write_input(run.raw(), 150);
  const ExpectedCounters& pin = model.counters["pin"];
  ASSERT_GT(pin.dead, 0);
  run.edit_config("      downloaded: long", "      downloaded: bool");
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  run.edit_config("      downloaded: bool", "      downloaded: long");  // fixed, then restarted
  const std::filesystem::path log = run.dir().path() / "daemon.log";
  const pid_t pid = run.spawn("", log);
  ASSERT_GT(pid, 0);
  const std::string sock = (run.data() / "pinstream.sock").string();
  auto socket_stats = [&] {
    std::string o;
    if (run.pinstream("query --socket '" + sock + "' --stats", &o, false) != 0) return json();
    return json::parse(o, nullptr, false);
  };
  ASSERT_TRUE(
      wait_until([&] { return socket_stats().contains("streams"); }, std::chrono::seconds(30)))
      << read_file(log);

  // Two redrives at once: the daemon serves them one after the other, the second finds
  // nothing left to take.
  const std::filesystem::path a = run.dir().path() / "a.out", b = run.dir().path() / "b.out";
  const std::string cmd =
      run.env() + pinstream_binary().string() + " redrive --config '" + run.config().string() + "'";
  ASSERT_EQ(run_command(cmd + " >'" + a.string() + "' 2>&1 & p=$!; " + cmd + " >'" + b.string() +
                            "' 2>&1; s=$?; wait $p && [ $s -eq 0 ]",
                        &out),
            0)
      << read_file(a) << read_file(b) << read_file(log);
  const int64_t ra = redriven_in(read_file(a), "pin"), rb = redriven_in(read_file(b), "pin");
  EXPECT_EQ(std::min(ra, rb), 0) << read_file(a) << read_file(b);
  EXPECT_EQ(ra + rb, pin.read - pin.dead) << read_file(a) << read_file(b);
  EXPECT_NE(read_file(log).find("Redrive queued"), std::string::npos) << read_file(log);
  out.clear();
  ASSERT_EQ(run.pinstream("redrive --config '" + run.config().string() + "' --stream nosuch", &out),
            2)
      << out;

  json s = socket_stats();  // the answer came once the epoch holding them committed
  for (const auto& [name, c] : model.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["clean"], c.clean) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);

  const std::multiset<int64_t> keys = keys_of(run.tables() / "pin");
  EXPECT_EQ(std::set<int64_t>(keys.begin(), keys.end()).size(), keys.size());  // each once
  EXPECT_EQ(static_cast<int64_t>(keys.size()), pin.clean);
  std::map<std::string, json> views;
  for (const char* v : kViews) views[v] = run.query(v)["rows"];
  run.set_data(run.dir().path() / "clean");
  out.clear();
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  EXPECT_EQ(keys_of(run.tables() / "pin"), keys);
  for (const char* v : kViews) EXPECT_EQ(run.query(v)["rows"], views[v]) << v;
}

}  // namespace
}  // namespace pinstream::testing
