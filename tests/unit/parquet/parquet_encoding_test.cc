// Dictionary encoding, its fallback to PLAIN, and per-type statistics, as DuckDB reads them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/parquet/writer.h"
#include "stream/core/time.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::parquet {
namespace {
using core::Type;
using core::Value;
using nlohmann::json;

json query(const std::string& sql) {
  std::string out;
  int rc = testing::duckdb_query(sql, &out);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out, nullptr, false);
}

TEST(ParquetDictionary, RepeatedStringsAreDictionaryEncodedAndReadBackExactly) {
  testing::TempDir dir;
  std::string path = (dir.path() / "dict.parquet").string();
  auto w = FileWriter::create(path, core::Schema({{"category", Type::kString}}));
  ASSERT_TRUE(w.has_value());
  const char* cats[] = {"beauty", "art", "", "éducation", "travel"};
  for (int i = 0; i < 10000; ++i)
    ASSERT_TRUE((*w)->append({i % 11 == 0 ? Value() : Value::of_string(cats[i % 5])}).is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  json enc = query("SELECT encodings, stats_min_value AS mn, stats_max_value AS mx, stats_null_count AS nn "
                   "FROM parquet_metadata('" + path + "')");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_NE(enc[0]["encodings"].get<std::string>().find("DICTIONARY"), std::string::npos) << enc.dump();
  EXPECT_EQ(enc[0]["mn"], "");
  EXPECT_EQ(enc[0]["mx"], "éducation");
  EXPECT_EQ(enc[0]["nn"], (10000 + 10) / 11);
  json got = query("SELECT category AS c, count(*) AS n FROM read_parquet('" + path + "') GROUP BY 1 ORDER BY 1");
  ASSERT_EQ(got.size(), 6u);  // five values and null
  EXPECT_EQ(got[0]["c"], "");
  EXPECT_EQ(got[3]["c"], "travel");
  EXPECT_TRUE(got[5]["c"].is_null());
  // Row order is kept: check a window of rows value by value.
  json rows = query("SELECT category AS c FROM read_parquet('" + path + "', file_row_number = true) "
                    "WHERE file_row_number BETWEEN 20 AND 24 ORDER BY file_row_number");
  ASSERT_EQ(rows.size(), 5u);
  for (size_t i = 20; i < 25; ++i) {
    if (i % 11 == 0) EXPECT_TRUE(rows[i - 20]["c"].is_null());
    else EXPECT_EQ(rows[i - 20]["c"], cats[i % 5]);
  }
}

TEST(ParquetDictionary, ManyDistinctLongStringsFallBackToPlainMidChunk) {
  testing::TempDir dir;
  std::string path = (dir.path() / "fallback.parquet").string();
  auto w = FileWriter::create(path, core::Schema({{"s", Type::kString}, {"i", Type::kLong}}));
  ASSERT_TRUE(w.has_value());
  const int n = 6000;  // ~300 bytes each: the 1 MiB dictionary fills after ~3500 rows
  auto text = [](int i) { return std::string(300, static_cast<char>('a' + i % 26)) + std::to_string(i); };
  for (int i = 0; i < n; ++i) ASSERT_TRUE((*w)->append({Value::of_string(text(i)), Value::of_long(i)}).is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  json enc = query("SELECT encodings FROM parquet_metadata('" + path + "') WHERE path_in_schema = 's'");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_NE(enc[0]["encodings"].get<std::string>().find("DICTIONARY"), std::string::npos) << enc.dump();
  json bad = query("SELECT count(*) AS n FROM read_parquet('" + path + "') WHERE s <> repeat(chr(97 + (i % 26)::INT), 300) || i::VARCHAR");
  EXPECT_EQ(bad[0]["n"], 0);
  json total = query("SELECT count(*) AS n FROM read_parquet('" + path + "')");
  EXPECT_EQ(total[0]["n"], n);
}

TEST(ParquetStatistics, MinMaxAndNullCountPerTypeMatchWhatDuckDBReads) {
  testing::TempDir dir;
  std::string path = (dir.path() / "stats.parquet").string();
  core::Schema schema({{"l", Type::kLong}, {"d", Type::kDouble}, {"s", Type::kString}, {"b", Type::kBool},
                       {"t", Type::kTimestamp}});
  auto w = FileWriter::create(path, schema);
  ASSERT_TRUE(w.has_value());
  int64_t t0 = *core::parse_timestamp("2019-01-01 00:00:00"), t1 = *core::parse_timestamp("2022-12-31 23:59:59");
  ASSERT_TRUE((*w)->append({Value::of_long(-5), Value::of_double(2.5), Value::of_string("pear"), Value::of_bool(false),
                            Value::of_timestamp(t1)}).is_ok());
  ASSERT_TRUE((*w)->append({Value(), Value(), Value(), Value(), Value()}).is_ok());
  ASSERT_TRUE((*w)->append({Value::of_long(42), Value::of_double(-1.25), Value::of_string("apple"),
                            Value::of_bool(false), Value::of_timestamp(t0)}).is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  const auto& st = (*w)->stats();
  EXPECT_EQ(st[0].min, Value::of_long(-5));
  EXPECT_EQ(st[0].max, Value::of_long(42));
  EXPECT_EQ(st[1].min, Value::of_double(-1.25));
  EXPECT_EQ(st[2].max, Value::of_string("pear"));
  EXPECT_EQ(st[3].max, Value::of_bool(false));
  EXPECT_EQ(st[4].min, Value::of_timestamp(t0));
  for (const auto& s : st) EXPECT_EQ(s.null_count, 1);
  json m = query("SELECT path_in_schema AS p, stats_min_value AS mn, stats_max_value AS mx, stats_null_count AS nn, "
                 "created_by AS cb FROM parquet_metadata('" + path + "') JOIN parquet_file_metadata('" + path +
                 "') USING (file_name) ORDER BY column_id");
  ASSERT_EQ(m.size(), 5u) << m.dump();
  EXPECT_EQ(m[0]["mn"], "-5");
  EXPECT_EQ(m[0]["mx"], "42");
  EXPECT_EQ(m[1]["mn"], "-1.25");
  EXPECT_EQ(m[2]["mn"], "apple");
  EXPECT_EQ(m[2]["mx"], "pear");
  EXPECT_EQ(m[3]["mx"], "false");
  EXPECT_NE(m[4]["mn"].get<std::string>().find("2019-01-01 00:00:00"), std::string::npos) << m[4].dump();
  for (const auto& r : m) EXPECT_EQ(r["nn"], 1);
  EXPECT_EQ(m[0]["cb"], "pinstream version 0.1.0");
}

}  // namespace
}  // namespace pinstream::connectors::parquet
