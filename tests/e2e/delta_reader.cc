#include "tests/e2e/delta_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace fs = std::filesystem;

DeltaSnapshot read_delta_log(const fs::path& table_dir) {
  DeltaSnapshot s;
  std::vector<fs::path> commits;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(table_dir / "_delta_log", ec)) {
    std::string name = e.path().filename().string();
    if (name.size() == 25 && name.substr(20) == ".json") commits.push_back(e.path());
  }
  std::sort(commits.begin(), commits.end());
  std::set<std::string> active;
  for (const auto& c : commits) {
    s.version = std::stoll(c.filename().string().substr(0, 20));
    for (const auto& line : read_lines(c)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      if (j.contains("add")) active.insert(j["add"]["path"].get<std::string>());
      if (j.contains("remove")) active.erase(j["remove"]["path"].get<std::string>());
      if (j.contains("txn"))
        s.txn[j["txn"]["appId"].get<std::string>()] = j["txn"]["version"].get<int64_t>();
    }
  }
  for (const auto& p : active) s.files.push_back((table_dir / p).string());
  return s;
}

std::string duckdb_scan(const DeltaSnapshot& s) {
  std::string list;
  for (const auto& f : s.files) list += (list.empty() ? "'" : ", '") + f + "'";
  return "read_parquet([" + list + "])";
}

std::multiset<int64_t> table_keys(const fs::path& table_dir) {
  DeltaSnapshot snap = read_delta_log(table_dir);
  std::multiset<int64_t> out;
  if (snap.files.empty()) return out;
  std::string js;
  EXPECT_EQ(duckdb_query("SELECT ind FROM " + duckdb_scan(snap), &js), 0) << js;
  for (const auto& r : nlohmann::json::parse(js)) out.insert(r["ind"].get<int64_t>());
  return out;
}

}  // namespace pinstream::testing
