// What the scale-out fault tests (groups, handoff, peers) share: the default pipeline made a
// group of `tasks: partitions` members, and what a member's log says of its assignment.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/delta_reader.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {

// Replaces the first `from` in `yaml` by `to`; a test failure when `from` is absent (the
// default pipeline changed under the test).
inline void edit_yaml(std::string& yaml, const std::string& from, const std::string& to) {
  const size_t at = yaml.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the pipeline: " << from;
    return;
  }
  yaml.replace(at, from.size(), to);
}

// The default pipeline as members of one group run it: `tasks: partitions`, the group id
// from $TEST_GROUP, 200 ms epochs.
inline std::string group_pipeline_yaml() {
  std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
  edit_yaml(yaml, "  # tasks: partitions", "  tasks: partitions");
  edit_yaml(yaml, "    group_id: pinstream-${PINSTREAM_ID:-pinterest}\n",
            "    group_id: ${TEST_GROUP}\n");
  edit_yaml(yaml, "epoch_interval_ms: 1000", "epoch_interval_ms: 200");
  return yaml;
}

// The partitions count of the last assignment a member logged in `<log>.err` (-1: none yet).
inline int last_assigned(const std::filesystem::path& log) {
  const std::string text = read_file(log.string() + ".err"), key = "Kafka partitions assigned. ";
  size_t at = text.rfind(key);
  if (at == std::string::npos) return -1;
  at = text.find("count=", at);
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 6);
}

// A table compared between the members' shared tables and a clean single-process run.
struct ComparedTable {
  std::string table, columns, where;
};
// The tables every record lands in once (not the derived ones).
inline const std::vector<ComparedTable>& record_tables() {
  static const std::vector<ComparedTable> tables = {
      {"pin", "*", ""},
      {"geo", "*", ""},
      {"user", "*", ""},
      {"dead_letters", "stream, source, position, raw, reason", ""},
      {"late_records", "stream, source, position, key, event_time, watermark", ""}};
  return tables;
}

// A Delta table's rows (DuckDB, JSON, in order), "[]" when it has no file.
inline std::string table_rows(const std::filesystem::path& table, const std::string& columns,
                              const std::string& where = "") {
  DeltaSnapshot snap = read_delta_log(table);
  if (snap.files.empty()) return "[]";
  std::string js;
  EXPECT_EQ(duckdb_query(
                "SELECT " + columns + " FROM " + duckdb_scan(snap) + where + " ORDER BY ALL", &js),
            0)
      << js;
  return js;
}

// Whether every table of `compared` has the same rows under the roots `got` and `want`.
inline bool tables_equal(const std::filesystem::path& got, const std::filesystem::path& want,
                         const std::vector<ComparedTable>& compared) {
  for (const auto& c : compared)
    if (table_rows(got / c.table, c.columns, c.where) !=
        table_rows(want / c.table, c.columns, c.where))
      return false;
  return true;
}

// The rows of table_rows' JSON answer (flat objects), as text.
inline std::multiset<std::string> json_rows(const std::string& js) {
  std::multiset<std::string> out;
  size_t at = js.find('{');
  while (at != std::string::npos) {
    const size_t end = js.find("},{", at);
    out.insert(js.substr(at, end == std::string::npos ? js.rfind('}') + 1 - at : end + 1 - at));
    at = end == std::string::npos ? end : end + 2;
  }
  return out;
}

// Up to 5 rows of `a` that `b` lacks, one per line.
inline std::string rows_missing(const std::multiset<std::string>& a,
                                const std::multiset<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  std::string out = std::to_string(only.size()) + " rows";
  for (size_t i = 0; i < only.size() && i < 5; ++i) out += "\n  " + only[i].substr(0, 300);
  return out;
}

// The same as test expectations, each table's difference shown; `got`'s pin is not empty.
inline void expect_tables_equal(const std::filesystem::path& got, const std::filesystem::path& want,
                                const std::vector<ComparedTable>& compared) {
  for (const auto& c : compared) {
    const std::string g = table_rows(got / c.table, c.columns, c.where),
                      w = table_rows(want / c.table, c.columns, c.where);
    if (g == w) continue;
    const auto gr = json_rows(g), wr = json_rows(w);
    ADD_FAILURE() << c.table << ": " << gr.size() << " rows vs " << wr.size()
                  << " expected\nonly there: " << rows_missing(gr, wr)
                  << "\nmissing: " << rows_missing(wr, gr);
  }
  EXPECT_NE(table_rows(got / "pin", "*"), "[]");
}

}  // namespace pinstream::testing
