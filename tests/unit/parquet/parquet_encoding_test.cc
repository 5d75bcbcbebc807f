// Dictionary encoding, its fallback to PLAIN, and per-type statistics, as DuckDB reads them.
#include <gtest/gtest.h>

#include <cmath>
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
  json enc = query(
      "SELECT encodings, stats_min_value AS mn, stats_max_value AS mx, stats_null_count AS nn "
      "FROM parquet_metadata('" +
      path + "')");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_NE(enc[0]["encodings"].get<std::string>().find("DICTIONARY"), std::string::npos)
      << enc.dump();
  EXPECT_EQ(enc[0]["mn"], "");
  EXPECT_EQ(enc[0]["mx"], "éducation");
  EXPECT_EQ(enc[0]["nn"], (10000 + 10) / 11);
  json got = query("SELECT category AS c, count(*) AS n FROM read_parquet('" + path +
                   "') GROUP BY 1 ORDER BY 1");
  ASSERT_EQ(got.size(), 6u);  // five values and null
  EXPECT_EQ(got[0]["c"], "");
  EXPECT_EQ(got[3]["c"], "travel");
  EXPECT_TRUE(got[5]["c"].is_null());
  // Row order is kept: check a window of rows value by value.
  json rows = query("SELECT category AS c FROM read_parquet('" + path +
                    "', file_row_number = true) "
                    "WHERE file_row_number BETWEEN 20 AND 24 ORDER BY file_row_number");
  ASSERT_EQ(rows.size(), 5u);
  for (size_t i = 20; i < 25; ++i) {
    if (i % 11 == 0)
      EXPECT_TRUE(rows[i - 20]["c"].is_null());
    else
      EXPECT_EQ(rows[i - 20]["c"], cats[i % 5]);
  }
}

TEST(ParquetDictionary, ManyDistinctLongStringsFallBackToPlainMidChunk) {
  testing::TempDir dir;
  std::string path = (dir.path() / "fallback.parquet").string();
  auto w = FileWriter::create(path, core::Schema({{"s", Type::kString}, {"i", Type::kLong}}));
  ASSERT_TRUE(w.has_value());
  const int n = 6000;  // ~300 bytes each: the 1 MiB dictionary fills after ~3500 rows
  auto text = [](int i) {
    return std::string(300, static_cast<char>('a' + i % 26)) + std::to_string(i);
  };
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE((*w)->append({Value::of_string(text(i)), Value::of_long(i)}).is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  json enc =
      query("SELECT encodings FROM parquet_metadata('" + path + "') WHERE path_in_schema = 's'");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_NE(enc[0]["encodings"].get<std::string>().find("DICTIONARY"), std::string::npos)
      << enc.dump();
  json bad = query("SELECT count(*) AS n FROM read_parquet('" + path +
                   "') WHERE s <> repeat(chr(97 + (i % 26)::INT), 300) || i::VARCHAR");
  EXPECT_EQ(bad[0]["n"], 0);
  json total = query("SELECT count(*) AS n FROM read_parquet('" + path + "')");
  EXPECT_EQ(total[0]["n"], n);
}

// Mostly distinct strings give up the dictionary once the first page's worth of values
// shows it saves nothing: the dictionary page holds about one page of values, not thousands,
// in every chunk; a column of few distinct values keeps its dictionary for the whole chunk.
TEST(ParquetDictionary, DistinctStringsGiveUpTheDictionaryAfterTheFirstPageInEveryChunk) {
  testing::TempDir dir;
  std::string path = (dir.path() / "early.parquet").string();
  WriterOptions o;
  o.snappy = false;             // page sizes in the footer are the encoded sizes
  o.row_group_bytes = 1 << 20;  // several chunks, each deciding anew
  auto w = FileWriter::create(path, core::Schema({{"u", Type::kString}, {"c", Type::kString}}), o);
  ASSERT_TRUE(w.has_value());
  const int n = 20000;
  auto unique = [](int i) {  // ~200 bytes, distinct, min and max late in the run
    if (i == 15001) return std::string("!first");
    if (i == 15002) return std::string(210, '~');
    return std::string(200, static_cast<char>('a' + i % 26)) + std::to_string(i);
  };
  auto few = [](int i) { return "category-" + std::to_string(i * 7919 % 300); };
  for (int i = 0; i < n; ++i) {
    Value u = i % 97 == 0 ? Value() : Value::of_string(unique(i));
    ASSERT_TRUE((*w)->append({u, Value::of_string(few(i))}).is_ok());
  }
  ASSERT_TRUE((*w)->close().is_ok());
  EXPECT_EQ((*w)->stats()[0].min, Value::of_string("!first"));
  EXPECT_EQ((*w)->stats()[0].max, Value::of_string(std::string(210, '~')));
  json chunks = query(
      "SELECT path_in_schema AS p, encodings AS e, data_page_offset - dictionary_page_offset AS "
      "dict, total_uncompressed_size AS size, num_values AS nv FROM parquet_metadata('" +
      path + "') ORDER BY row_group_id, p");
  ASSERT_GE(chunks.size(), 4u) << "expected several row groups";
  for (const json& c : chunks) {
    EXPECT_NE(c["e"].get<std::string>().find("DICTIONARY"), std::string::npos) << c.dump();
    if (c["p"] == "u")
      EXPECT_LT(c["dict"].get<int64_t>(), 40 << 10) << "dictionary past the first page";
    else  // 300 values of ~12 bytes: data pages of ~9-bit indices, not 16 bytes a value
      EXPECT_LT(c["size"].get<int64_t>() - c["dict"].get<int64_t>(), c["nv"].get<int64_t>() * 2)
          << c.dump();
  }
  json bad = query(
      "SELECT count(*) FILTER (WHERE u IS DISTINCT FROM CASE WHEN i % 97 = 0 THEN NULL "
      "WHEN i = 15001 THEN '!first' WHEN i = 15002 THEN repeat('~', 210) "
      "ELSE repeat(chr(97 + (i % 26)::INT), 200) || i::VARCHAR END) AS bu, "
      "count(*) FILTER (WHERE c <> 'category-' || ((i * 7919) % 300)::VARCHAR) AS bc, "
      "count(*) AS n FROM (SELECT *, file_row_number::BIGINT AS i FROM read_parquet('" +
      path + "', file_row_number = true))");
  EXPECT_EQ(bad[0]["bu"], 0);
  EXPECT_EQ(bad[0]["bc"], 0);
  EXPECT_EQ(bad[0]["n"], n);
  // Each chunk's statistics are exact: the min and max DuckDB finds in that row group.
  json st = query(
      "WITH m AS (SELECT row_group_id AS g, row_group_num_rows AS rows, stats_min_value AS mn, "
      "stats_max_value AS mx, stats_null_count AS nn FROM parquet_metadata('" +
      path +
      "') WHERE path_in_schema = 'u'), b AS (SELECT g, sum(rows) OVER (ORDER BY g) - rows AS lo, "
      "sum(rows) OVER (ORDER BY g) AS hi, mn, mx, nn FROM m), d AS (SELECT u, file_row_number AS i "
      "FROM read_parquet('" +
      path +
      "', file_row_number = true)) SELECT count(*) FILTER (WHERE mn IS DISTINCT FROM dmn OR mx "
      "IS DISTINCT FROM dmx OR nn <> dnn) AS wrong, count(*) AS groups FROM (SELECT b.g, b.mn, "
      "b.mx, b.nn, min(d.u) AS dmn, max(d.u) AS dmx, count(*) - count(d.u) AS dnn FROM b JOIN d "
      "ON d.i >= b.lo AND d.i < b.hi GROUP BY ALL)");
  EXPECT_EQ(st[0]["wrong"], 0) << st.dump();
  EXPECT_GE(st[0]["groups"].get<int64_t>(), 2);
}

TEST(ParquetStatistics, MinMaxAndNullCountPerTypeMatchWhatDuckDBReads) {
  testing::TempDir dir;
  std::string path = (dir.path() / "stats.parquet").string();
  core::Schema schema({{"l", Type::kLong},
                       {"d", Type::kDouble},
                       {"s", Type::kString},
                       {"b", Type::kBool},
                       {"t", Type::kTimestamp}});
  auto w = FileWriter::create(path, schema);
  ASSERT_TRUE(w.has_value());
  int64_t t0 = *core::parse_timestamp("2019-01-01 00:00:00"),
          t1 = *core::parse_timestamp("2022-12-31 23:59:59");
  ASSERT_TRUE((*w)->append({Value::of_long(-5), Value::of_double(2.5), Value::of_string("pear"),
                            Value::of_bool(false), Value::of_timestamp(t1)})
                  .is_ok());
  ASSERT_TRUE((*w)->append({Value(), Value(), Value(), Value(), Value()}).is_ok());
  ASSERT_TRUE((*w)->append({Value::of_long(42), Value::of_double(-1.25), Value::of_string("apple"),
                            Value::of_bool(false), Value::of_timestamp(t0)})
                  .is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  const auto& st = (*w)->stats();
  EXPECT_EQ(st[0].min, Value::of_long(-5));
  EXPECT_EQ(st[0].max, Value::of_long(42));
  EXPECT_EQ(st[1].min, Value::of_double(-1.25));
  EXPECT_EQ(st[2].max, Value::of_string("pear"));
  EXPECT_EQ(st[3].max, Value::of_bool(false));
  EXPECT_EQ(st[4].min, Value::of_timestamp(t0));
  for (const auto& s : st) EXPECT_EQ(s.null_count, 1);
  json m = query(
      "SELECT path_in_schema AS p, stats_min_value AS mn, stats_max_value AS mx, stats_null_count "
      "AS nn, "
      "created_by AS cb FROM parquet_metadata('" +
      path + "') JOIN parquet_file_metadata('" + path + "') USING (file_name) ORDER BY column_id");
  ASSERT_EQ(m.size(), 5u) << m.dump();
  EXPECT_EQ(m[0]["mn"], "-5");
  EXPECT_EQ(m[0]["mx"], "42");
  EXPECT_EQ(m[1]["mn"], "-1.25");
  EXPECT_EQ(m[2]["mn"], "apple");
  EXPECT_EQ(m[2]["mx"], "pear");
  EXPECT_EQ(m[3]["mx"], "false");
  EXPECT_NE(m[4]["mn"].get<std::string>().find("2019-01-01 00:00:00"), std::string::npos)
      << m[4].dump();
  for (const auto& r : m) EXPECT_EQ(r["nn"], 1);
  EXPECT_EQ(m[0]["cb"], "pinstream version 0.1.0");
}

// Statistics skip dictionary hits and compare strings eight bytes at a time first; nulls
// that first appear deep inside a page turn its run of definition levels into real ones.
TEST(ParquetStatistics, SharedPrefixesLateNullsAndZerosKeepExactMinMaxAndValues) {
  testing::TempDir dir;
  std::string path = (dir.path() / "late.parquet").string();
  core::Schema schema(
      {{"id", Type::kLong}, {"s", Type::kString}, {"u", Type::kString}, {"d", Type::kDouble}});
  WriterOptions o;
  o.page_bytes = 16 << 10;
  auto w = FileWriter::create(path, schema, o);
  ASSERT_TRUE(w.has_value());
  // s: few distinct values (dictionary), sharing an 8+ byte prefix, min and max added late.
  // u: all distinct (PLAIN after the dictionary gives up), with "", a 7-byte and a NUL value.
  const int n = 9000;
  for (int i = 0; i < n; ++i) {
    std::string s = "category-" + std::to_string(10 + i % 50);
    if (i == 7000) s = "category-0";
    if (i == 8000) s = "category-9";
    std::string u = "user-name-" + std::to_string(i);
    if (i == 5000) u = "";
    if (i == 5001) u = "user-na";
    if (i == 5002) u = std::string("user-name-\0", 11);
    bool null_row = i == 2999 || i == 6500 || i == n - 1;  // after thousands of present values
    double d = i == 100 ? 0.0 : i == 200 ? -0.0 : 1.0 + i;
    ASSERT_TRUE((*w)->append({Value::of_long(i), null_row ? Value() : Value::of_string(s),
                              null_row ? Value() : Value::of_string(u), Value::of_double(d)})
                    .is_ok());
  }
  ASSERT_TRUE((*w)->close().is_ok());
  const auto& st = (*w)->stats();
  EXPECT_EQ(st[1].min, Value::of_string("category-0"));
  EXPECT_EQ(st[1].max, Value::of_string("category-9"));
  EXPECT_EQ(st[2].min, Value::of_string(""));
  EXPECT_EQ(st[2].max, Value::of_string("user-name-999"));
  EXPECT_EQ(st[1].null_count, 3);
  EXPECT_TRUE(std::signbit(st[3].min.d));
  EXPECT_EQ(st[3].min.d, 0.0);
  EXPECT_EQ(st[3].max, Value::of_double(n));
  json nulls = query(
      "SELECT list(id ORDER BY id) AS ids, count(DISTINCT s) AS ds, min(s) AS mn, max(u) AS mx, "
      "sum(CASE WHEN u = '' THEN 1 ELSE 0 END) AS empty, max(length(u)) FILTER (WHERE id = 5002) "
      "AS nul "
      "FROM read_parquet('" +
      path + "') WHERE s IS NULL OR id IN (5000, 5002)");
  ASSERT_EQ(nulls.size(), 1u) << nulls.dump();
  EXPECT_EQ(nulls[0]["ids"], json::array({2999, 5000, 5002, 6500, n - 1}));
  EXPECT_EQ(nulls[0]["empty"], 1);
  EXPECT_EQ(nulls[0]["nul"], 11);
  json all = query(
      "SELECT count(*) AS c, count(s) AS cs, count(DISTINCT s) AS ds, min(s) AS mn, max(s) AS mx, "
      "count(u) AS cu, count(DISTINCT u) AS du FROM read_parquet('" +
      path + "')");
  EXPECT_EQ(all[0]["c"], n);
  EXPECT_EQ(all[0]["cs"], n - 3);
  EXPECT_EQ(all[0]["ds"], 52);
  EXPECT_EQ(all[0]["mn"], "category-0");
  EXPECT_EQ(all[0]["mx"], "category-9");
  EXPECT_EQ(all[0]["cu"], n - 3);
  EXPECT_EQ(all[0]["du"], n - 3);
  json m = query(
      "SELECT path_in_schema AS p, min(stats_min_value) AS mn, max(stats_max_value) AS mx, "
      "sum(stats_null_count) AS nn "
      "FROM parquet_metadata('" +
      path + "') GROUP BY p ORDER BY p");
  ASSERT_EQ(m.size(), 4u) << m.dump();
  EXPECT_EQ(m[2]["p"], "s");
  EXPECT_EQ(m[2]["mn"], "category-0");
  EXPECT_EQ(m[2]["mx"], "category-9");
  EXPECT_EQ(m[2]["nn"], 3);
}

}  // namespace
}  // namespace pinstream::connectors::parquet
