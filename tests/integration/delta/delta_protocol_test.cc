// Tables written by someone else: pinstream refuses to write a table whose protocol,
// features or writer-binding properties it does not implement, and appends normally to a
// table in the shape Spark writes (its commitInfo fields, its checkpoint and
// _last_checkpoint, its log cleaned up before the checkpoint).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "connectors/delta/checkpoint.h"
#include "tests/integration/delta/delta_test_util.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;
using pinstream::testing::TempDir;

std::string version_file(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(v));
  return buf;
}

// Writes version 0 of a table as another engine would: `protocol`, then metaData with the
// given configuration and schemaString.
void write_foreign_table(const fs::path& dir, const json& protocol, const json& configuration,
                         const std::string& schema = schema_string(pin_schema())) {
  fs::create_directories(dir / "_delta_log");
  json meta = {{"id", "5b0c2c1e-8f1a-4a4e-9d7e-2f1a3b4c5d6e"},
               {"format", {{"provider", "parquet"}, {"options", json::object()}}},
               {"schemaString", schema},
               {"partitionColumns", json::array()},
               {"configuration", configuration},
               {"createdTime", 1700000000000}};
  std::ofstream out(dir / "_delta_log" / version_file(0));
  out << json({{"commitInfo",
                {{"timestamp", 1700000000000},
                 {"operation", "CREATE TABLE"},
                 {"engineInfo", "Databricks-Runtime/15.4.x-scala2.12"}}}})
             .dump()
      << "\n"
      << json({{"protocol", protocol}}).dump() << "\n"
      << json({{"metaData", meta}}).dump() << "\n";
}

std::string open_error(const fs::path& dir) {
  auto t = DeltaTable::open(dir.string(), "pin", pin_schema());
  return t.has_value() ? std::string() : t.error().message();
}

TEST(DeltaProtocol, DatabricksDefaultTableWithDeletionVectorsIsRefusedNamingTheFeature) {
  TempDir tmp;
  fs::path dir = tmp / "pin";
  write_foreign_table(dir,
                      {{"minReaderVersion", 3},
                       {"minWriterVersion", 7},
                       {"readerFeatures", {"deletionVectors"}},
                       {"writerFeatures", {"deletionVectors", "invariants", "appendOnly"}}},
                      {{"delta.enableDeletionVectors", "true"}});
  std::string err = open_error(dir);
  EXPECT_NE(err.find(dir.string()), std::string::npos) << err;
  EXPECT_NE(err.find("minReaderVersion 3, minWriterVersion 7"), std::string::npos) << err;
  EXPECT_NE(err.find("writerFeatures deletionVectors"), std::string::npos) << err;
  EXPECT_NE(err.find("readerFeatures deletionVectors"), std::string::npos) << err;
  EXPECT_EQ(err.find("writerFeatures invariants"), std::string::npos) << err;  // implemented
  // Nothing was written: the log still holds version 0 only.
  EXPECT_FALSE(fs::exists(dir / "_delta_log" / version_file(1)));
}

TEST(DeltaProtocol, WriterBindingPropertiesAndSchemaMetadataAreRefused) {
  struct Case {
    json protocol, configuration;
    std::string schema, expect;
  };
  std::string generated = schema_string(pin_schema());
  // A generated column: the metadata Spark puts on the field.
  generated.replace(generated.find("\"metadata\":{}"), 13,
                    R"("metadata":{"delta.generationExpression":"ind * 2"})");
  std::vector<Case> cases = {
      {{{"minReaderVersion", 2}, {"minWriterVersion", 5}},
       {{"delta.columnMapping.mode", "name"}},
       "",
       "column mapping mode name"},
      {{{"minReaderVersion", 1}, {"minWriterVersion", 3}},
       {{"delta.constraints.positive", "ind > 0"}},
       "",
       "CHECK constraint delta.constraints.positive"},
      {{{"minReaderVersion", 1}, {"minWriterVersion", 4}},
       json::object(),
       generated,
       "generated columns"},
      {{{"minReaderVersion", 1}, {"minWriterVersion", 8}}, json::object(), "", "writer version 8"},
      {{{"minReaderVersion", 3},
        {"minWriterVersion", 7},
        {"readerFeatures", json::array()},
        {"writerFeatures", {"rowTracking", "domainMetadata"}}},
       json::object(),
       "",
       "writerFeatures rowTracking, writerFeatures domainMetadata"},
  };
  for (const auto& c : cases) {
    TempDir tmp;
    fs::path dir = tmp / "pin";
    write_foreign_table(dir, c.protocol, c.configuration,
                        c.schema.empty() ? schema_string(pin_schema()) : c.schema);
    std::string err = open_error(dir);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.expect << " / " << err;
    EXPECT_NE(err.find("refuses to write"), std::string::npos) << err;
  }
}

TEST(DeltaProtocol, FeaturesAnAppenderHonoursAreWrittenAndKeptInOurCheckpoints) {
  TempDir tmp;
  fs::path dir = tmp / "pin";
  write_foreign_table(dir,
                      {{"minReaderVersion", 1},
                       {"minWriterVersion", 7},
                       {"writerFeatures", {"appendOnly", "invariants", "changeDataFeed"}}},
                      {{"delta.appendOnly", "true"}, {"delta.enableChangeDataFeed", "true"}});
  TableOptions opts;
  opts.checkpoint_interval = 2;
  auto t = DeltaTable::open(dir.string(), "pin", pin_schema(), opts);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(write_epoch(**t, 0, 10, "app", 1).version, 1);
  EXPECT_EQ(write_epoch(**t, 10, 20, "app", 2).version, 2);  // checkpoint at 2
  // The checkpoint keeps the table's features: a reader starting there sees the same protocol.
  auto cp = read_checkpoint((dir / "_delta_log").string(), 2);
  ASSERT_TRUE(cp.has_value()) << cp.error().message();
  EXPECT_EQ(cp->min_writer, 7);
  EXPECT_EQ(cp->writer_features,
            (std::vector<std::string>{"appendOnly", "invariants", "changeDataFeed"}));
  // RESTORE removes files: refused on an append-only table, and nothing is written.
  auto r = (*t)->restore(1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("delta.appendOnly"), std::string::npos) << r.error().message();
  EXPECT_FALSE(fs::exists(dir / "_delta_log" / version_file(3)));
}

// A table as Spark leaves it: JSON commits with Spark's commitInfo, a checkpoint at version
// 10 in Spark's checkpoint schema (written here by DuckDB, not by us), `_last_checkpoint`
// with Spark's fields, and the commits before the checkpoint deleted by log cleanup.
// `protocol` is the checkpoint's protocol struct as DuckDB SQL.
void write_spark_shaped_table(const fs::path& dir, const std::string& protocol) {
  fs::path log = dir / "_delta_log";
  fs::create_directories(log);
  // Ten data files of 3 rows each, written by DuckDB (as another engine's files).
  std::string values;
  for (int f = 0; f < 10; ++f) {
    std::string file = (dir / ("part-0000" + std::to_string(f) + "-spark.snappy.parquet")).string();
    duck("COPY (SELECT (range + " + std::to_string(f * 3) +
         ")::BIGINT AS ind, 'cat-x' AS category, 1.5::DOUBLE AS score, TIMESTAMP '2021-01-01' AS "
         "ts, "
         "[1.0, 2.0]::DOUBLE[] AS coords FROM range(3)) TO '" +
         file + "' (FORMAT PARQUET)");
    values += std::string(values.empty() ? "" : ", ") + "('" + fs::path(file).filename().string() +
              "', " + std::to_string(fs::file_size(file)) + ")";
  }
  std::string schema = schema_string(pin_schema());
  std::string cp = (log / "00000000000000000010.checkpoint.parquet").string();
  duck(
      "COPY (WITH files(path, size) AS (VALUES " + values +
      ") "
      "SELECT NULL::STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT) AS txn, "
      "{'path': path, 'partitionValues': MAP {}::MAP(VARCHAR, VARCHAR), 'size': size::BIGINT, "
      "'modificationTime': 1700000000000::BIGINT, 'dataChange': false, "
      "'stats': '{\"numRecords\":3}', 'tags': MAP {'INSERTION_TIME': '1700000000000000'}} AS add, "
      "NULL::STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN) AS remove, "
      "NULL::STRUCT(id VARCHAR, schemaString VARCHAR, partitionColumns VARCHAR[], "
      "configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT) AS metaData, "
      "NULL::STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], "
      "writerFeatures VARCHAR[]) AS protocol FROM files "
      "UNION ALL SELECT {'appId': 'spark-streaming-query', 'version': 9::BIGINT, 'lastUpdated': "
      "1::BIGINT}, "
      "NULL, NULL, NULL, NULL "
      "UNION ALL SELECT NULL, NULL, NULL, {'id': 'c0ffee', 'schemaString': '" +
      schema +
      "', "
      "'partitionColumns': []::VARCHAR[], 'configuration': MAP {'delta.checkpointInterval': '10'}, "
      "'createdTime': 1700000000000::BIGINT}, NULL "
      "UNION ALL SELECT NULL, NULL, NULL, NULL, " +
      protocol + ") TO '" + cp + "' (FORMAT PARQUET)");
  std::ofstream(log / "_last_checkpoint")
      << R"({"version":10,"size":13,"sizeInBytes":9000,"numOfAddFiles":10,"checkpointSchema":{"type":"struct","fields":[]}})";
  std::ofstream(log / version_file(10))
      << R"({"commitInfo":{"timestamp":1700000000000,"operation":"STREAMING UPDATE","operationParameters":{"outputMode":"Append","queryId":"q","epochId":"9"},"readVersion":9,"isolationLevel":"Serializable","isBlindAppend":true,"operationMetrics":{"numOutputRows":"3"},"engineInfo":"Apache-Spark/3.5.0 Delta-Lake/3.1.0","txnId":"t"}})"
      << "\n";
}

TEST(DeltaProtocol, AppendsToATableInTheShapeSparkWrites) {
  TempDir tmp;
  fs::path dir = tmp / "pin";
  write_spark_shaped_table(dir,
                           "{'minReaderVersion': 1, 'minWriterVersion': 2, "
                           "'readerFeatures': NULL::VARCHAR[], 'writerFeatures': NULL::VARCHAR[]}");
  // No commit before the checkpoint is left: what open() sees comes from DuckDB's checkpoint.
  ASSERT_FALSE(fs::exists(dir / "_delta_log" / version_file(0)));
  auto t = DeltaTable::open(dir.string(), "pin", pin_schema());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(*(*t)->latest_version(), 10);
  EXPECT_EQ(*(*t)->txn_version("spark-streaming-query"), std::optional<int64_t>(9));
  EXPECT_EQ((*t)->active_files()->size(), 10u);
  EXPECT_EQ(write_epoch(**t, 100, 105, "pinstream-test", 1).version, 11);
  auto files = (*t)->active_files();
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 11u);
  json n = duck("SELECT count(*)::INTEGER AS n, count(DISTINCT ind)::INTEGER AS d FROM " +
                scan(dir.string(), *files));
  ASSERT_TRUE(n.is_array() && n.size() == 1) << n.dump();
  EXPECT_EQ(n[0]["n"], 35);
  EXPECT_EQ(n[0]["d"], 35);
}

// The protocol can live only in a checkpoint (the log before it cleaned up): it binds too.
TEST(DeltaProtocol, FeaturesFoundOnlyInASparkCheckpointAreRefused) {
  TempDir tmp;
  fs::path dir = tmp / "pin";
  write_spark_shaped_table(dir,
                           "{'minReaderVersion': 3, 'minWriterVersion': 7, "
                           "'readerFeatures': ['deletionVectors'], "
                           "'writerFeatures': ['deletionVectors', 'appendOnly']}");
  std::string err = open_error(dir);
  EXPECT_NE(err.find("writerFeatures deletionVectors"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "_delta_log" / version_file(11)));
}

TEST(DeltaProtocol, UnreadableCheckpointWithItsLogGoneIsAnErrorNotANewTable) {
  TempDir tmp;
  fs::path dir = tmp / "pin";
  fs::path log = dir / "_delta_log";
  fs::create_directories(log);
  std::ofstream(log / "00000000000000000010.checkpoint.parquet") << "not parquet";
  std::ofstream(log / "_last_checkpoint") << R"({"version":10,"size":3})";
  std::ofstream(log / version_file(11)) << R"({"commitInfo":{}})"
                                        << "\n";
  std::string err = open_error(dir);
  EXPECT_NE(err.find("cannot read checkpoint"), std::string::npos) << err;
  EXPECT_NE(err.find("00000000000000000010.checkpoint.parquet"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(log / version_file(0)));  // no new table was created over it
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
