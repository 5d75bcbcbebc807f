// Helpers for the Delta tests: a small table schema, DuckDB queries, reading log files.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "connectors/delta/table.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta::test {
using core::Type;
using core::Value;
using nlohmann::json;

inline core::Schema pin_schema() {
  return core::Schema({{"ind", Type::kLong, false},
                       {"category", Type::kString},
                       {"score", Type::kDouble},
                       {"ts", Type::kTimestamp},
                       {"coords", Type::kDoubleArray}});
}

inline core::Row pin_row(int64_t i) {
  return {Value::of_long(i),
          i % 3 == 0 ? Value() : Value::of_string("cat-" + std::to_string(i % 4)),
          Value::of_double(static_cast<double>(i) / 2),
          Value::of_timestamp(1600000000000000 + i * 1000000),
          Value::of_array({static_cast<double>(i), -static_cast<double>(i)})};
}

inline json duck(const std::string& sql) {
  std::string out;
  int rc = testing::duckdb_query(sql, &out);
  EXPECT_EQ(rc, 0) << sql << "\n" << out;
  return json::parse(out, nullptr, false);
}

// "read_parquet(['<dir>/a', ...])" over exactly the active files.
inline std::string scan(const std::string& dir, const std::vector<AddFile>& files) {
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "'" : ", '") + dir + "/" + f.path + "'";
  return "read_parquet([" + list + "])";
}

inline std::vector<json> log_lines(const std::string& dir, int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(version));
  std::vector<json> out;
  for (const auto& l : testing::read_lines(std::filesystem::path(dir) / "_delta_log" / buf))
    if (!l.empty()) out.push_back(json::parse(l));
  return out;
}

// Appends rows [from, to) and commits them as txn (app, txn).
inline CommitOutcome write_epoch(DeltaTable& t, int64_t from, int64_t to, const std::string& app,
                                 int64_t txn) {
  auto w = t.new_writer();
  for (int64_t i = from; i < to; ++i) EXPECT_TRUE(w->append(pin_row(i)).is_ok());
  auto adds = w->finish();
  EXPECT_TRUE(adds.has_value());
  auto c = t.commit(*adds, app, txn);
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.has_value() ? *c : CommitOutcome{};
}

}  // namespace pinstream::connectors::delta::test
