// Schema evolution of the stream tables (SPEC section 5): rescued unexpected fields, and a
// non-additive change refused at start (the added column: tests/unit/delta).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

struct Env {
  TempDir dir{"pinstream-schema"};
  ExpectedPipeline expected;
  fs::path config;
  std::string yaml;

  Env() {
    expected.write_input(dir.path() / "raw", 600);
    yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
    replace("epoch_max_records: 200000", "epoch_max_records: 150\n  poll_batch: 75");
    replace("checkpoint_every_epochs: 10", "checkpoint_every_epochs: 2");
    config = dir.path() / "pipeline.yaml";
    write_file(config, yaml);
  }
  void replace(const std::string& from, const std::string& to) {
    size_t at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
    write_file(config, yaml);
  }
  int pinstream(const std::string& args, std::string* out) const {
    return run_command("PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
                           "' PINSTREAM_DATA='" + (dir.path() / "data").string() + "' " +
                           pinstream_binary().string() + " " + args + " --config '" +
                           config.string() + "'",
                       out);
  }
  fs::path table(const std::string& name) const { return dir.path() / "data/tables" / name; }
  // DuckDB over the table's active files; files without a column read it as null.
  json query(const std::string& table_name, const std::string& select) const {
    DeltaSnapshot s = read_delta_log(table(table_name));
    std::string scan = duckdb_scan(s);
    scan.insert(scan.size() - 1, ", union_by_name = true");
    std::string js;
    EXPECT_EQ(duckdb_query("SELECT " + select + " FROM " + scan + " ORDER BY ind", &js), 0) << js;
    return json::parse(js, nullptr, false);
  }
  // The raw pin records by key.
  std::map<int64_t, json> raw_pins() const {
    std::map<int64_t, json> out;
    for (const auto& f : fs::recursive_directory_iterator(dir.path() / "raw/topics/pinterest.pin"))
      if (f.is_regular_file())
        for (const auto& l : read_lines(f.path())) {
          json o = json::parse(l, nullptr, false);  // the input holds dead letters too
          if (o.is_object() && o.contains("index") && o["index"].is_number_integer())
            out[o["index"].get<int64_t>()] = o;
        }
    return out;
  }
};

// Unexpected fields (here `downloaded`, no longer in `input`) are kept as a JSON object.
TEST(SchemaEvolution, RescueKeepsUnexpectedFieldsAsAJsonObject) {
  Env e;
  e.replace("      downloaded: long\n", "");
  e.replace("      - drop: [downloaded]\n", "");
  e.replace("    table: pin\n", "    table: pin\n    rescue: true\n");
  std::string out;
  ASSERT_EQ(e.pinstream("run --until-idle", &out), 0) << out;
  auto raw = e.raw_pins();
  json rows = e.query("pin", "ind, _rescued_data");
  ASSERT_TRUE(rows.is_array()) << rows.dump();
  ASSERT_EQ(rows.size(), e.expected.pin.size());
  for (const auto& r : rows) {
    const json& o = raw.at(r["ind"].get<int64_t>());
    ASSERT_TRUE(r["_rescued_data"].is_string()) << r.dump() << " raw: " << o.dump();
    json rescued = json::parse(r["_rescued_data"].get<std::string>());
    EXPECT_EQ(rescued, json({{"downloaded", o["downloaded"]}})) << r.dump();
  }
  // A stream without rescue has no such column; nothing unexpected is null.
  EXPECT_EQ(e.query("user", "*").at(0).count("_rescued_data"), 0u);
}

TEST(SchemaEvolution, NonAdditiveChangeIsRefusedNamingTableColumnAndWaysOut) {
  Env e;
  std::string out;
  ASSERT_EQ(e.pinstream("run --until-idle", &out), 0) << out;
  e.replace("is_image_or_video, image_src, save_location", "is_image_or_video, save_location");
  EXPECT_EQ(e.pinstream("run --until-idle", &out), 2) << out;
  EXPECT_NE(out.find("table pin: column 'image_src' (string) is no longer configured"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("new name"), std::string::npos) << out;
  EXPECT_NE(out.find("replay --from-checkpoint"), std::string::npos) << out;
}

// A column added after checkpoints were kept (`downloaded` now reaches the table), then
// replay from a checkpoint taken before it existed: the restored table gets the column back
// and the reprocessed rows carry it.
TEST(SchemaEvolution, ReplayFromACheckpointBeforeAnAddedColumnReprocessesWithIt) {
  Env e;
  std::string out;
  ASSERT_EQ(e.pinstream("run --until-idle", &out), 0) << out;
  std::string list;
  ASSERT_EQ(e.pinstream("checkpoints", &list), 0) << list;
  // A checkpoint in the middle of the input: its state holds join parts without the column.
  std::vector<std::string> ids;
  for (size_t at = 0; at < list.size(); at = list.find('\n', at) + 1) {
    ids.push_back(list.substr(at, list.find(' ', at) - at));
    if (list.find('\n', at) == std::string::npos) break;
  }
  ASSERT_GE(ids.size(), 3u) << list;
  // The first after the empty epoch 0: later ones may already hold every pin (how records
  // spread over epochs depends on timing), and then nothing would be reprocessed.
  const std::string first = ids[1];
  e.replace("      - drop: [downloaded]\n", "");
  e.replace("save_location, category]", "save_location, category, downloaded]");
  ASSERT_EQ(e.pinstream("run --until-idle", &out), 0) << out;
  ASSERT_EQ(e.pinstream("replay --from-checkpoint " + first + " --until-idle", &out), 0) << out;
  auto raw = e.raw_pins();
  json rows = e.query("pin", "ind, downloaded");
  ASSERT_TRUE(rows.is_array()) << rows.dump();
  ASSERT_EQ(rows.size(), e.expected.pin.size());
  size_t with_value = 0;
  for (const auto& r : rows) {
    if (r["downloaded"].is_null()) continue;
    ++with_value;
    EXPECT_EQ(r["downloaded"], raw.at(r["ind"].get<int64_t>())["downloaded"]) << r.dump();
  }
  EXPECT_GT(with_value, 0u);  // the rows reprocessed after the checkpoint
  ASSERT_EQ(e.pinstream("verify", &out), 0) << out;
}

}  // namespace
}  // namespace pinstream::testing
