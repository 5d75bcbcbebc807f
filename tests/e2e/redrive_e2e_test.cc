// `pinstream redrive` after a configuration fix: every pin record was rejected by a wrong
// input type; once the configuration is fixed, redrive lets the records that now clean
// enter the pipeline once (dedup on the key applies), leaves the malformed ones dead, takes
// nothing a second time, and the result equals a clean run over the fixed configuration.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pinstream::testing
