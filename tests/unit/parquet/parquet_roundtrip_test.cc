// Our Parquet files read back by an independent reader (DuckDB), value by value.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "connectors/parquet/reader.h"
#include "connectors/parquet/writer.h"
#include "stream/core/time.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::parquet {
namespace {
using core::Type;
using core::Value;
using nlohmann::json;

core::Schema all_types() {
  return core::Schema({{"id", Type::kLong, false},
                       {"d", Type::kDouble},
                       {"s", Type::kString},
                       {"b", Type::kBool},
                       {"t", Type::kTimestamp},
                       {"a", Type::kDoubleArray}});
}

json query(const std::string& sql) {
  std::string out;
  int rc = testing::duckdb_query(sql, &out);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out, nullptr, false);
}

TEST(ParquetWriter, EveryTypeIncludingNullsRoundTripsThroughDuckDB) {
  testing::TempDir dir;
  std::string path = (dir.path() / "all.parquet").string();
  auto w = FileWriter::create(path, all_types());
  ASSERT_TRUE(w.has_value()) << w.error().message();
  std::string long_string(100000, 'x');
  std::vector<core::Row> rows = {
      {Value::of_long(1), Value::of_double(1.5), Value::of_string("héllo, 世界"),
       Value::of_bool(true), Value::of_timestamp(*core::parse_timestamp("2021-03-04 05:06:07")),
       Value::of_array({1.5, -2.25})},
      {Value::of_long(-2), Value(), Value::of_string(""), Value::of_bool(false), Value(), Value()},
      {Value::of_long(INT64_MAX), Value::of_double(-0.0), Value(), Value(), Value::of_timestamp(0),
       Value::of_array({})},
      {Value::of_long(INT64_MIN), Value::of_double(1e300), Value::of_string(long_string),
       Value::of_bool(true), Value::of_timestamp(-1), Value::of_array({std::nan(""), 3.0})},
  };
  for (const auto& r : rows) ASSERT_TRUE((*w)->append(r).is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  json got = query(
      "SELECT id::VARCHAR AS id, d, s, b, strftime(t, '%Y-%m-%dT%H:%M:%S.%f') AS t, a, length(s) "
      "AS n FROM read_parquet('" +
      path + "', file_row_number = true) ORDER BY file_row_number");
  ASSERT_TRUE(got.is_array());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0]["id"], "1");
  EXPECT_EQ(got[0]["d"], 1.5);
  EXPECT_EQ(got[0]["s"], "héllo, 世界");
  EXPECT_EQ(got[0]["b"], true);
  EXPECT_EQ(got[0]["t"], "2021-03-04T05:06:07.000000");
  EXPECT_EQ(got[0]["a"], json::array({1.5, -2.25}));
  EXPECT_TRUE(got[1]["d"].is_null());
  EXPECT_EQ(got[1]["s"], "");
  EXPECT_EQ(got[1]["b"], false);
  EXPECT_TRUE(got[1]["t"].is_null());
  EXPECT_TRUE(got[1]["a"].is_null());
  EXPECT_EQ(got[2]["id"], std::to_string(INT64_MAX));
  EXPECT_TRUE(got[2]["s"].is_null());
  EXPECT_TRUE(got[2]["b"].is_null());
  EXPECT_EQ(got[2]["t"], "1970-01-01T00:00:00.000000");
  EXPECT_EQ(got[2]["a"], json::array());
  EXPECT_EQ(got[3]["id"], std::to_string(INT64_MIN));
  EXPECT_EQ(got[3]["n"], 100000);
  EXPECT_EQ(got[3]["t"], "1969-12-31T23:59:59.999999");
  EXPECT_EQ(got[3]["a"], json::array({nullptr, 3.0}));
  // Types as a reader sees them.
  json types = query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('" +
                     path + "'))");
  std::map<std::string, std::string> t;
  for (const auto& r : types) t[r["column_name"]] = r["column_type"];
  EXPECT_EQ(t["id"], "BIGINT");
  EXPECT_EQ(t["d"], "DOUBLE");
  EXPECT_EQ(t["s"], "VARCHAR");
  EXPECT_EQ(t["b"], "BOOLEAN");
  EXPECT_EQ(t["t"], "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(t["a"], "DOUBLE[]");
}

TEST(ParquetWriter, ManyRowsInSeveralRowGroupsAndPagesWithStatistics) {
  testing::TempDir dir;
  std::string path = (dir.path() / "many.parquet").string();
  WriterOptions o;
  o.row_group_bytes = 200 << 10;
  o.page_bytes = 16 << 10;
  auto w = FileWriter::create(path, all_types(), o);
  ASSERT_TRUE(w.has_value());
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    core::Row r = {Value::of_long(i),
                   i % 7 == 0 ? Value() : Value::of_double(i * 0.5),
                   Value::of_string("row-" + std::to_string(i % 1000)),
                   Value::of_bool(i % 2 == 0),
                   Value::of_timestamp(int64_t{i} * 1000000),
                   i % 5 == 0 ? Value() : Value::of_array({double(i), double(-i)})};
    ASSERT_TRUE((*w)->append(r).is_ok());
  }
  ASSERT_TRUE((*w)->close().is_ok());
  EXPECT_EQ((*w)->stats()[0].min, Value::of_long(0));
  EXPECT_EQ((*w)->stats()[0].max, Value::of_long(n - 1));
  EXPECT_EQ((*w)->stats()[1].null_count, (n + 6) / 7);
  json agg = query(
      "SELECT count(*) AS c, sum(id) AS s, count(d) AS nd, sum(len(a)) AS la, count(DISTINCT s) AS "
      "ds, "
      "sum(CASE WHEN b THEN 1 ELSE 0 END) AS nb, max(t) = TIMESTAMPTZ '1970-01-01 13:53:19+00' AS "
      "tmax FROM read_parquet('" +
      path + "')");
  EXPECT_EQ(agg[0]["c"], n);
  EXPECT_EQ(agg[0]["s"], int64_t{n} * (n - 1) / 2);
  EXPECT_EQ(agg[0]["nd"], n - (n + 6) / 7);
  EXPECT_EQ(agg[0]["la"], 2 * (n - n / 5));
  EXPECT_EQ(agg[0]["ds"], 1000);
  EXPECT_EQ(agg[0]["nb"], n / 2);
  EXPECT_EQ(agg[0]["tmax"], true);
  json meta = query(
      "SELECT count(DISTINCT row_group_id) AS groups, min(stats_min_value) FILTER (WHERE "
      "path_in_schema = 'id') AS mn, "
      "sum(stats_null_count) FILTER (WHERE path_in_schema = 'd') AS nulls, any_value(compression) "
      "AS codec "
      "FROM parquet_metadata('" +
      path + "')");
  EXPECT_GT(meta[0]["groups"].get<int>(), 1);
  EXPECT_EQ(meta[0]["mn"], "0");
  EXPECT_EQ(meta[0]["nulls"], (n + 6) / 7);
  EXPECT_EQ(meta[0]["codec"], "SNAPPY");
}

TEST(ParquetWriter, EmptyFileIsValidAndWrongTypesAreRejected) {
  testing::TempDir dir;
  std::string path = (dir.path() / "empty.parquet").string();
  auto w = FileWriter::create(path, all_types());
  ASSERT_TRUE(w.has_value());
  core::Row bad = {Value::of_string("x"), Value(), Value(), Value(), Value(), Value()};
  EXPECT_EQ((*w)->append(bad).code(), core::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*w)->close().is_ok());
  json c = query("SELECT count(*) AS c FROM read_parquet('" + path + "')");
  EXPECT_EQ(c[0]["c"], 0);
}

// Batches are encoded column by column (fixed-width values in runs), one row at a time row
// by row: the files must be the same bytes, pages cut at the same values. Small pages put
// page boundaries inside batches; long distinct strings make the string chunk span many
// page blocks.
TEST(ParquetWriter, BatchesWriteTheSameBytesAsRowByRowAndARejectedBatchWritesNothing) {
  testing::TempDir dir;
  auto text = [](int i) {  // incompressible enough that snappy keeps the chunk large
    std::string s(static_cast<size_t>(200 + i % 50), ' ');
    uint64_t x = 1469598103934665603ull;
    x ^= static_cast<uint64_t>(i);
    for (char& c : s) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>(33 + static_cast<int>(x >> 58));
    }
    return s + std::to_string(i);
  };
  std::vector<core::Row> rows;
  for (int i = 0; i < 3000; ++i)
    rows.push_back(
        {Value::of_long(i), i % 11 == 0 ? Value() : Value::of_double(i / 3.0),
         i % 13 == 0 ? Value() : Value::of_string(text(i)), Value::of_bool(i % 3 == 0),
         Value::of_timestamp(int64_t{i} * 7),
         i % 17 == 0 ? Value::of_array({}) : Value::of_array({double(i), std::nan("")})});
  std::string one = (dir.path() / "one.parquet").string(),
              batched = (dir.path() / "batched.parquet").string();
  WriterOptions o;
  o.page_bytes = 4000;
  auto a = FileWriter::create(one, all_types(), o);
  auto b = FileWriter::create(batched, all_types(), o);
  ASSERT_TRUE(a.has_value() && b.has_value());
  for (const auto& r : rows) ASSERT_TRUE((*a)->append(r).is_ok());
  std::vector<const core::Row*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  size_t at = 0;
  for (size_t size : {size_t{1}, size_t{7}, size_t{300}, size_t{1000}, size_t{1692}}) {
    ASSERT_TRUE((*b)->append_rows(ptrs.data() + at, size).is_ok());
    at += size;
  }
  ASSERT_EQ(at, rows.size());
  core::Row bad = {
      Value::of_long(1), Value::of_string("not a double"), Value(), Value(), Value(), Value()};
  const core::Row* with_bad[] = {ptrs[0], &bad, ptrs[1]};
  EXPECT_EQ((*b)->append_rows(with_bad, 3).code(), core::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*a)->close().is_ok());
  ASSERT_TRUE((*b)->close().is_ok());
  EXPECT_EQ(testing::read_file(one), testing::read_file(batched));
  EXPECT_GT((*b)->bytes_written(), 4 * (64 << 10));  // the string chunk alone spans several blocks
  json agg = query(
      "SELECT count(*) AS c, sum(id) AS s, count(s) AS ns, sum(length(s)) AS ls, count(d) AS nd "
      "FROM read_parquet('" +
      batched + "')");
  int64_t ls = 0;
  for (int i = 0; i < 3000; ++i)
    if (i % 13 != 0) ls += 200 + i % 50 + static_cast<int64_t>(std::to_string(i).size());
  EXPECT_EQ(agg[0]["c"], 3000);
  EXPECT_EQ(agg[0]["s"], 3000 * 2999 / 2);
  EXPECT_EQ(agg[0]["ns"], 3000 - 231);
  EXPECT_EQ(agg[0]["ls"], ls);
  EXPECT_EQ(agg[0]["nd"], 3000 - 273);
}

}  // namespace
}  // namespace pinstream::connectors::parquet

namespace pinstream::connectors::parquet {
namespace {

// Compaction reads its inputs a row group at a time (ranged reads): the groups together are
// the file, each read with one call for its bytes, and a file cut short is refused.
TEST(ParquetReader, RowGroupsOneAtATimeEqualTheWholeFile) {
  testing::TempDir dir;
  std::string path = (dir.path() / "groups.parquet").string();
  WriterOptions o;
  o.row_group_bytes = 64 << 10;
  o.page_bytes = 8 << 10;
  auto w = FileWriter::create(path, all_types(), o);
  ASSERT_TRUE(w.has_value());
  for (int i = 0; i < 20000; ++i)
    ASSERT_TRUE((*w)->append({Value::of_long(i), Value::of_double(i * 0.25),
                              Value::of_string("s" + std::to_string(i)), Value::of_bool(i % 3 == 0),
                              Value::of_timestamp(int64_t{i}), Value::of_array({double(i)})})
                    .is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  const std::string data = testing::read_file(path);
  auto whole = read_bytes(data, path);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  int reads = 0;
  RangeReader read = [&](uint64_t offset, uint64_t length) -> core::Result<std::string_view> {
    ++reads;
    return std::string_view(data).substr(offset, length);
  };
  std::vector<LeafColumn> joined(whole->leaves.size());
  int groups = 0;
  int64_t rows = 0;
  ASSERT_TRUE(read_row_groups(data.size(), read, path, [&](ParquetContents& g) {
                ++groups;
                rows += g.rows;
                for (size_t c = 0; c < g.leaves.size(); ++c) {
                  auto& v = joined[c].values;
                  v.insert(v.end(), g.leaves[c].values.begin(), g.leaves[c].values.end());
                }
                return core::Status::ok();
              }).is_ok());
  EXPECT_GT(groups, 3);
  EXPECT_EQ(reads, groups + 2);  // the tail, the footer, then one read per group
  EXPECT_EQ(rows, 20000);
  for (size_t c = 0; c < joined.size(); ++c) EXPECT_EQ(joined[c].values, whole->leaves[c].values);

  const std::string cut = data.substr(0, data.size() / 2) + data.substr(data.size() - 8);
  RangeReader read_cut = [&](uint64_t offset, uint64_t length) -> core::Result<std::string_view> {
    return std::string_view(cut).substr(std::min<uint64_t>(offset, cut.size()), length);
  };
  core::Status st = read_row_groups(cut.size(), read_cut, path,
                                    [](ParquetContents&) { return core::Status::ok(); });
  EXPECT_FALSE(st.is_ok());
}

}  // namespace
}  // namespace pinstream::connectors::parquet
