// Fault: the tables root already holds a table written by another engine with a protocol
// pinstream does not implement (Databricks' default: deletion vectors). The run must refuse
// with one line naming the table and the feature, and commit nothing to that table; a
// table whose protocol asks nothing more than pinstream does is appended to normally.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

// Version 0 of `table` with `protocol`, created by "Databricks" before pinstream ever ran.
// The metaData carries no schema pinstream would accept either way: the protocol is what
// must be refused first, and named.
void write_foreign_table(const fs::path& dir, const json& protocol) {
  fs::create_directories(dir / "_delta_log");
  json meta = {{"id", "0b5e"},
               {"format", {{"provider", "parquet"}, {"options", json::object()}}},
               {"schemaString", R"({"type":"struct","fields":[]})"},
               {"partitionColumns", json::array()},
               {"configuration", {{"delta.enableDeletionVectors", "true"}}},
               {"createdTime", 1700000000000}};
  std::ofstream(dir / "_delta_log/00000000000000000000.json")
      << json({{"commitInfo",
                {{"operation", "CREATE TABLE"}, {"engineInfo", "Databricks-Runtime/15.4"}}}})
             .dump()
      << "\n"
      << json({{"protocol", protocol}}).dump() << "\n"
      << json({{"metaData", meta}}).dump() << "\n";
}

TEST(DeltaProtocolFault, RunRefusesATableWithDeletionVectorsAndWritesNothingToIt) {
  TempDir dir("pinstream-fault-protocol");
  ExpectedPipeline expected;
  expected.write_input(dir.path() / "raw", 60);
  fs::path pin = dir.path() / "data/tables/pin";
  write_foreign_table(pin, {{"minReaderVersion", 3},
                            {"minWriterVersion", 7},
                            {"readerFeatures", {"deletionVectors"}},
                            {"writerFeatures", {"deletionVectors", "invariants", "appendOnly"}}});
  std::string env = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
                    "' PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  std::string cmd = env + pinstream_binary().string() + " run --config '" +
                    (source_dir() / "examples/pinterest/pipeline.yaml").string() + "' --until-idle";
  std::string out;
  int rc = run_command(cmd, &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(pin.string()), std::string::npos) << out;
  EXPECT_NE(out.find("writerFeatures deletionVectors"), std::string::npos) << out;
  EXPECT_NE(out.find("refuses to write"), std::string::npos) << out;
  EXPECT_EQ(read_delta_log(pin).version, 0);  // the foreign table is untouched
  // The same refusal on a second try: no state was committed that would skip the check.
  EXPECT_EQ(run_command(cmd, &out), 2) << out;
  EXPECT_EQ(read_delta_log(pin).version, 0);
}

}  // namespace
}  // namespace pinstream::testing
