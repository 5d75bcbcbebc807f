// Compaction (connectors/delta/optimize.h): every row kept at the latest version and at the
// version before, stats recomputed, dataChange false, a conflicting RESTORE retried.
#include "connectors/delta/optimize.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "connectors/delta/log_store.h"
#include "connectors/parquet/reader.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta {
namespace {
using nlohmann::json;

core::Schema schema() {
  return core::Schema({{"ind", core::Type::kLong, false},
                       {"p", core::Type::kString, true},
                       {"name", core::Type::kString, true},
                       {"ts", core::Type::kTimestamp, true},
                       {"v", core::Type::kDoubleArray, true}});
}

TableOptions partitioned() {
  TableOptions o;
  o.partition_columns = {"p"};
  return o;
}

// Commits `files` files of 3 rows each into partition `p`, inds from `*next`.
void write_files(DeltaTable& t, const std::string& p, int files, int64_t* next) {
  for (int f = 0; f < files; ++f) {
    auto w = t.new_writer();
    for (int r = 0; r < 3; ++r) {
      int64_t i = (*next)++;
      core::Row row{core::Value::of_long(i), core::Value::of_string(p),
                    i % 2 ? core::Value::null() : core::Value::of_string("n" + std::to_string(i)),
                    core::Value::of_timestamp(i * 1000000),
                    i % 3 ? core::Value::of_array({1.5, double(i)}) : core::Value::null()};
      ASSERT_TRUE(w->append(row).is_ok());
    }
    auto adds = w->finish();
    ASSERT_TRUE(adds.has_value());
    ASSERT_TRUE(t.commit(*adds, "app", *next).has_value());
  }
}

// The ind and v cells of every row of `snap`'s files, as "ind:v" strings (a multiset).
std::multiset<std::string> rows_of(const std::string& dir, const Snapshot& snap) {
  std::multiset<std::string> out;
  for (const auto& [path, add] : snap.active) {
    auto c = parquet::read_file(dir + "/" + data_key(path));
    EXPECT_TRUE(c.has_value()) << path;
    if (!c) continue;
    for (int64_t r = 0; r < c->rows; ++r) {
      const auto& ind = c->leaves[0].values[static_cast<size_t>(r)];
      const auto& name = c->leaves[1].values[static_cast<size_t>(r)];
      out.insert(std::to_string(ind.i) + ":" + (name.is_null() ? "null" : name.s) + ":" +
                 add.partition_values.at("p"));
    }
  }
  return out;
}

TEST(DeltaOptimize, CompactsPartitionsWithManySmallFilesKeepingEveryRow) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  auto t = DeltaTable::open(root, "t", schema(), partitioned());
  ASSERT_TRUE(t.has_value());
  int64_t next = 0;
  write_files(**t, "a", 5, &next);
  write_files(**t, "b", 2, &next);
  write_files(**t, "a", 1, &next);
  auto before = (*t)->latest_snapshot();
  ASSERT_TRUE(before.has_value());
  Snapshot old = **before;
  auto want = rows_of(root, old);
  ASSERT_EQ(want.size(), 24u);
  OptimizeOptions opts;
  opts.min_files = 4;
  EXPECT_TRUE(needs_optimize(old, opts));
  auto r = optimize_table(**t, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->commits, 1);
  EXPECT_EQ(r->removed_files, 6);
  EXPECT_EQ(r->added_files, 1);
  auto after = (*t)->latest_snapshot();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)->active.size(), 3u);  // a: 1 file, b: 2 files (under min_files)
  EXPECT_EQ(rows_of(root, **after), want);
  EXPECT_FALSE(needs_optimize(**after, opts));
  // The version before is still readable and holds the same rows.
  auto back = (*t)->snapshot_at(old.version);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(rows_of(root, *back), want);
  // The commit: OPTIMIZE with metrics, removes and adds with dataChange false, stats.
  auto text = (*t)->store().get(commit_key((*after)->version));
  ASSERT_TRUE(text.has_value());
  int removes = 0, adds = 0;
  for (size_t at = 0, end; at < text->size(); at = end + 1) {
    end = text->find('\n', at);
    json j = json::parse(text->substr(at, end - at));
    if (j.contains("commitInfo")) {
      EXPECT_EQ(j["commitInfo"]["operation"], "OPTIMIZE");
      EXPECT_EQ(j["commitInfo"]["operationMetrics"]["numRemovedFiles"], "6");
      EXPECT_EQ(j["commitInfo"]["operationMetrics"]["numAddedFiles"], "1");
    } else if (j.contains("remove")) {
      ++removes;
      EXPECT_EQ(j["remove"]["dataChange"], false);
      EXPECT_GT(j["remove"]["deletionTimestamp"].get<int64_t>(), 0);
    } else if (j.contains("add")) {
      ++adds;
      EXPECT_EQ(j["add"]["dataChange"], false);
      EXPECT_EQ(j["add"]["partitionValues"]["p"], "a");
      json stats = json::parse(j["add"]["stats"].get<std::string>());
      EXPECT_EQ(stats["numRecords"], 18);
      EXPECT_EQ(stats["minValues"]["ind"], 0);
      EXPECT_EQ(stats["maxValues"]["ind"], 23);
      EXPECT_EQ(stats["nullCount"]["name"], 9);
    }
  }
  EXPECT_EQ(removes, 6);
  EXPECT_EQ(adds, 1);
}

TEST(DeltaOptimize, AConcurrentRestoreRemovingAnInputIsRetriedWithoutDuplicates) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  auto t = DeltaTable::open(root, "t", schema(), partitioned());
  auto other = DeltaTable::open(root, "t", schema(), partitioned());
  ASSERT_TRUE(t.has_value() && other.has_value());
  int64_t next = 0;
  write_files(**t, "a", 6, &next);
  int64_t restore_to = *(*t)->latest_version();
  write_files(**t, "a", 2, &next);
  OptimizeOptions opts;
  opts.min_files = 4;
  int calls = 0;
  opts.before_commit = [&] {
    if (calls++ == 0) {
      ASSERT_TRUE((*other)->restore(restore_to).has_value());
    }
  };
  auto r = optimize_table(**t, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->conflicts, 1);
  EXPECT_EQ(r->commits, 1);
  EXPECT_EQ(r->removed_files, 6);
  auto snap = (*t)->latest_snapshot();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(rows_of(root, **snap).size(), 18u);  // the restored version's rows, once each
  std::set<std::string> inds;
  for (const auto& row : rows_of(root, **snap)) EXPECT_TRUE(inds.insert(row).second) << row;
  // The discarded round's outputs are gone: only active and removed files remain.
  auto listed = (*t)->store().list("p=a/");
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 8u + 1u);
}

TEST(DeltaOptimize, OutputsReachTheTargetSoTheyAreNotCompactedAgain) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  auto t = DeltaTable::open(root, "t", schema(), partitioned());
  ASSERT_TRUE(t.has_value());
  // Many small files whose footers and headers weigh more than their rows: merged, the rows
  // take far fewer bytes than the inputs did.
  int64_t next = 0;
  for (int f = 0; f < 60; ++f) {
    auto w = (*t)->new_writer();
    for (int r = 0; r < 40; ++r, ++next) {
      core::Row row{core::Value::of_long(next * 7919 % 100003), core::Value::of_string("a"),
                    core::Value::of_string(std::to_string(std::hash<int64_t>{}(next * 31))),
                    core::Value::of_timestamp(next * 1000003), core::Value::null()};
      ASSERT_TRUE(w->append(row).is_ok());
    }
    auto adds = w->finish();
    ASSERT_TRUE(adds.has_value());
    ASSERT_TRUE((*t)->commit(*adds, "app", f).has_value());
  }
  OptimizeOptions opts;
  opts.min_files = 4;
  opts.target_file_bytes = 16 << 10;
  auto before = (*t)->latest_snapshot();
  ASSERT_TRUE(before.has_value());
  auto want = rows_of(root, **before);
  auto r = optimize_table(**t, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto after = (*t)->latest_snapshot();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(rows_of(root, **after), want);
  int64_t small = 0;
  for (const auto& [path, add] : (*after)->active) small += add.size < opts.target_file_bytes;
  ASSERT_GE((*after)->active.size(), 2u);  // the test must cut more than one output
  EXPECT_LE(small, 1) << "outputs under the target: only the last of a partition may be";
  EXPECT_FALSE(needs_optimize(**after, opts));
  auto again = optimize_table(**t, opts);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->commits, 0);
}

// Every cell of every row of `snap`'s files (lists rebuilt from their levels), a multiset.
std::multiset<std::string> cells_of(const std::string& dir, const Snapshot& snap) {
  std::multiset<std::string> out;
  for (const auto& [path, add] : snap.active) {
    auto c = parquet::read_file(dir + "/" + data_key(path));
    EXPECT_TRUE(c.has_value()) << path;
    if (!c) continue;
    std::vector<std::string> lists;
    const auto& v = c->leaves[3];
    for (size_t e = 0; e < v.values.size(); ++e) {
      if (v.rep[e] == 0) lists.push_back(v.def[e] == 0 ? "null" : "[");
      if (v.def[e] >= 2)
        lists.back() += (v.def[e] == 2 ? "nan" : std::to_string(v.values[e].d)) + ",";
    }
    EXPECT_EQ(lists.size(), static_cast<size_t>(c->rows));
    for (size_t r = 0; r < lists.size(); ++r) {
      const auto& name = c->leaves[1].values[r];
      out.insert(std::to_string(c->leaves[0].values[r].i) + ":" +
                 (name.is_null() ? "null" : name.s) + ":" +
                 std::to_string(c->leaves[2].values[r].i) + ":" + lists[r]);
    }
  }
  return out;
}

// Inputs longer than the slices a row group is rebuilt in: every cell, lists included, kept.
TEST(DeltaOptimize, RowGroupsLongerThanASliceKeepEveryCell) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  auto t = DeltaTable::open(root, "t", schema(), partitioned());
  ASSERT_TRUE(t.has_value());
  int64_t next = 0;
  for (int f = 0; f < 4; ++f) {
    auto w = (*t)->new_writer();
    for (int r = 0; r < 5000; ++r, ++next) {
      core::Value list = next % 5 == 0   ? core::Value::null()
                         : next % 5 == 1 ? core::Value::of_array({})
                                         : core::Value::of_array({double(next), 0.5, -1.0});
      core::Row row{core::Value::of_long(next), core::Value::of_string("a"),
                    next % 2 ? core::Value::null() : core::Value::of_string(std::to_string(next)),
                    core::Value::of_timestamp(next * 1000), list};
      ASSERT_TRUE(w->append(row).is_ok());
    }
    auto adds = w->finish();
    ASSERT_TRUE(adds.has_value());
    ASSERT_TRUE((*t)->commit(*adds, "app", next).has_value());
  }
  auto before = (*t)->latest_snapshot();
  ASSERT_TRUE(before.has_value());
  auto want = cells_of(root, **before);
  ASSERT_EQ(want.size(), 20000u);
  OptimizeOptions opts;
  opts.min_files = 4;
  auto r = optimize_table(**t, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->removed_files, 4);
  auto after = (*t)->latest_snapshot();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)->active.size(), 1u);
  EXPECT_EQ(cells_of(root, **after), want);
}

}  // namespace
}  // namespace pinstream::connectors::delta
