// Opening the engine's tables concurrently (stream/table_open.h): every table once, results
// in the specs' order whatever the timing, each failure kept at its table's place.
#include "stream/table_open.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <set>

#include "connectors/objstore/object_store.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {

TEST(DeltaTableOpen, ForEachIndexRunsEveryIndexOnceOnBoundedThreads) {
  std::mutex mu;
  std::multiset<size_t> seen;
  std::atomic<int> running{0}, most{0};
  for_each_index(40, 8, [&](size_t i) {
    int now = ++running;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(i);
    }
    --running;
  });
  ASSERT_EQ(seen.size(), 40u);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
  EXPECT_LE(most.load(), 8);
  for_each_index(0, 8, [](size_t) { FAIL() << "no index to run"; });
}

TEST(DeltaTableOpen, FirstOfEachKeepsTheFirstSpecOfAName) {
  core::Schema s;
  s.add({"id", core::Type::kLong, true});
  auto todo = first_of_each({{"a", s, true}, {"b", s, false}, {"a", s, false}, {"c", s, false}});
  ASSERT_EQ(todo.size(), 3u);
  EXPECT_EQ(todo[0].name, "a");
  EXPECT_TRUE(todo[0].ingest_side);
  EXPECT_EQ(todo[1].name, "b");
  EXPECT_EQ(todo[2].name, "c");
}

TEST(DeltaTableOpen, ConcurrentOpensKeepTheOrderAndEachTablesFailure) {
  testing::TempDir dir("table-open");
  const std::string root = (dir / "tables").string();
  auto store = connectors::objstore::open_store(root);
  ASSERT_TRUE(store.has_value()) << store.error().to_string();
  std::shared_ptr<connectors::objstore::ObjectStore> shared(std::move(*store));
  core::Schema s;
  s.add({"id", core::Type::kLong, true});
  std::vector<TableSpec> specs;
  for (int i = 0; i < 9; ++i) specs.push_back({"t" + std::to_string(i), s, false});
  auto created = open_concurrently(specs, shared, root, (dir / "staging").string());
  ASSERT_EQ(created.size(), specs.size());
  for (size_t i = 0; i < created.size(); ++i) {
    ASSERT_TRUE(created[i].has_value()) << created[i].error().to_string();
    EXPECT_EQ((*created[i])->known_version(), 0) << specs[i].name;
  }
  // Two damaged logs: an empty commit 1 in t3 and t6.
  for (const char* t : {"t3", "t6"})
    std::ofstream(dir / ("tables/" + std::string(t) + "/_delta_log/00000000000000000001.json"));
  auto again = open_concurrently(specs, shared, root, (dir / "staging").string());
  for (size_t i = 0; i < again.size(); ++i) {
    const bool damaged = i == 3 || i == 6;
    ASSERT_EQ(again[i].has_value(), !damaged) << specs[i].name;
    if (damaged) {
      EXPECT_EQ(again[i].error().code(), core::StatusCode::kCorruption);
      EXPECT_NE(again[i].error().message().find("of table " + specs[i].name + " is empty"),
                std::string::npos)
          << again[i].error().message();
    }
  }
}

}  // namespace
}  // namespace pinstream::runtime
