// The default pipeline over S3-sink files, run as a user runs it, compared with the
// independent model in expected_pipeline.cc: tables (read back with DuckDB), counters and
// every view.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;

struct E2eRun {
  TempDir dir{"pinstream-e2e"};
  ExpectedPipeline expected;
  std::string env() const {
    return "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
           "' PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  }
  std::string config() const {
    return (source_dir() / "examples/pinterest/pipeline.yaml").string();
  }
  int pinstream(const std::string& args, std::string* out = nullptr, bool merge = true) const {
    return run_command(env() + pinstream_binary().string() + " " + args, out, merge);
  }
  json query(const std::string& view) const {
    std::string out;
    int rc = pinstream("query --config '" + config() + "' " + view + " --format json", &out, false);
    EXPECT_EQ(rc, 0) << out;
    return json::parse(out, nullptr, false);
  }
};

void expect_views_match(const E2eRun& run) {
  for (const char* v : kDefaultViews) {
    json answer = run.query(v);
    ASSERT_TRUE(answer.is_object()) << v;
    ASSERT_TRUE(answer.value("ok", false)) << v << ": " << answer.dump();
    json want = run.expected.view(v);
    EXPECT_EQ(answer["rows"], want) << v << "\n got: " << answer["rows"].dump().substr(0, 2000)
                                    << "\nwant: " << want.dump().substr(0, 2000);
  }
}

TEST(PipelineE2E, FilesRunMatchesIndependentComputation) {
  E2eRun run;
  run.expected.write_input(run.dir.path() / "raw", 900);
  std::string out;
  ASSERT_EQ(run.pinstream("run --config '" + run.config() + "' --until-idle", &out), 0) << out;

  // Counters: read = clean + dead + duplicates per stream, equal to the model's.
  std::string stats_text;
  ASSERT_EQ(run.pinstream("query --config '" + run.config() + "' --stats", &stats_text, false), 0)
      << stats_text;
  json stats = json::parse(stats_text);
  for (const auto& [name, c] : run.expected.counters) {
    const json& s = stats["streams"][name];
    EXPECT_EQ(s["read"], c.read) << name;
    EXPECT_EQ(s["clean"], c.clean) << name;
    EXPECT_EQ(s["dead"], c.dead) << name;
    EXPECT_EQ(s["duplicates"], c.duplicates) << name;
    EXPECT_EQ(s["late"], c.late) << name;
  }

  // Tables, read back with DuckDB over the files the Delta log says are active.
  auto tables = run.dir.path() / "data" / "tables";
  struct T {
    const char* name;
    size_t rows;
  };
  for (T t : {T{"pin", run.expected.pin.size()}, T{"geo", run.expected.geo.size()},
              T{"user", run.expected.user.size()}, T{"dead_letters", run.expected.dead_letters}}) {
    DeltaSnapshot snap = read_delta_log(tables / t.name);
    ASSERT_FALSE(snap.files.empty()) << t.name;
    std::string js;
    ASSERT_EQ(duckdb_query("SELECT count(*) AS n FROM " + duckdb_scan(snap), &js), 0) << js;
    EXPECT_EQ(json::parse(js)[0]["n"], t.rows) << t.name;
  }
  // Every pin row equals the model's cleaned row, column by column, in SPEC order.
  DeltaSnapshot pin = read_delta_log(tables / "pin");
  std::string js;
  ASSERT_EQ(duckdb_query("SELECT * FROM " + duckdb_scan(pin) + " ORDER BY ind", &js), 0) << js;
  json rows = json::parse(js);
  ASSERT_EQ(rows.size(), run.expected.pin.size());
  std::vector<std::string> cols;
  for (const auto& [k, v] : rows[0].items()) cols.push_back(k);
  size_t i = 0;
  for (const auto& [key, want] : run.expected.pin) {
    for (const auto& [k, v] : want.items())
      EXPECT_EQ(rows[i][k], v) << "ind " << key << " column " << k;
    ++i;
  }
  // geo: coordinates and timestamps.
  DeltaSnapshot geo = read_delta_log(tables / "geo");
  ASSERT_EQ(duckdb_query("SELECT ind, country, coordinates, epoch(timestamp)::BIGINT AS ts FROM " +
                             duckdb_scan(geo) + " ORDER BY ind",
                         &js),
            0)
      << js;
  rows = json::parse(js);
  i = 0;
  for (const auto& [key, want] : run.expected.geo) {
    EXPECT_EQ(rows[i]["ind"], key);
    EXPECT_EQ(rows[i]["country"], want["country"]) << key;
    EXPECT_EQ(rows[i]["coordinates"], want["coordinates"]) << key;
    EXPECT_EQ(rows[i]["ts"], want["timestamp"]) << key;
    ++i;
  }
  expect_views_match(run);
}

TEST(PipelineE2E, ValidatePrintsTheResolvedPipelineAndBadConfigExits2) {
  E2eRun run;
  std::string out;
  ASSERT_EQ(run.pinstream("validate --config '" + run.config() + "'", &out), 0) << out;
  EXPECT_NE(
      out.find(
          "cleaned pin: ind:long, unique_id:string, title:string, description:string, "
          "follower_count:long, poster_name:string, tag_list:string, is_image_or_video:string, "
          "image_src:string, save_location:string, category:string"),
      std::string::npos)
      << out;
  EXPECT_NE(
      out.find(
          "cleaned geo: ind:long, country:string, coordinates:array<double>, timestamp:timestamp"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("cleaned user: ind:long, user_name:string, age:long, date_joined:timestamp"),
            std::string::npos)
      << out;
  // A typo in a key: exit 2, one line naming file:line:column and the key.
  std::string yaml = read_file(run.config());
  size_t at = yaml.find("epoch_interval_ms");
  yaml.replace(at, 17, "epoch_intervl_ms");
  write_file(run.dir.path() / "bad.yaml", yaml);
  out.clear();
  EXPECT_EQ(
      run.pinstream("validate --config '" + (run.dir.path() / "bad.yaml").string() + "'", &out), 2);
  EXPECT_NE(out.find("bad.yaml:"), std::string::npos) << out;
  EXPECT_NE(out.find("key 'runtime.epoch_intervl_ms': unknown key"), std::string::npos) << out;
}

}  // namespace
}  // namespace pinstream::testing
