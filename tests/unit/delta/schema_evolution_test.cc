// Schema evolution at DeltaTable::open: an added nullable column is a metaData commit and
// older files read it as null (checked with DuckDB); anything else is refused.
#include "connectors/delta/schema_evolution.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/delta/table.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta {
namespace {
using core::Type;

core::Schema v1() {
  return core::Schema({{"ind", Type::kLong, false}, {"name", Type::kString, true}});
}
core::Schema v2() {
  return core::Schema(
      {{"ind", Type::kLong, false}, {"name", Type::kString, true}, {"age", Type::kLong, true}});
}

void write(DeltaTable& t, std::vector<core::Row> rows, int64_t txn) {
  auto w = t.new_writer();
  for (auto& r : rows) ASSERT_TRUE(w->append(r).is_ok());
  auto adds = w->finish();
  ASSERT_TRUE(adds.has_value());
  ASSERT_TRUE(t.commit(*adds, "app", txn).has_value());
}

TEST(DeltaSchemaEvolution, AddedNullableColumnIsAMetaDataCommitAndOldFilesReadNull) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  {
    auto t = DeltaTable::open(root, "t", v1());
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    write(**t, {{core::Value::of_long(1), core::Value::of_string("a")}}, 1);
  }
  auto t = DeltaTable::open(root, "t", v2());
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  std::string commit = testing::read_file(dir.path() / "t/_delta_log/00000000000000000002.json");
  EXPECT_NE(commit.find("\"metaData\""), std::string::npos) << commit;
  EXPECT_NE(commit.find("ADD COLUMNS"), std::string::npos) << commit;
  EXPECT_NE(commit.find("\\\"age\\\""), std::string::npos) << commit;
  write(**t, {{core::Value::of_long(2), core::Value::of_string("b"), core::Value::of_long(30)}}, 2);
  // Opening again with the same schema commits nothing more.
  ASSERT_TRUE(DeltaTable::open(root, "t", v2()).has_value());
  ASSERT_EQ(*(*t)->latest_version(), 3);
  auto files = (*t)->active_files();
  ASSERT_TRUE(files.has_value());
  std::string list;
  for (const auto& f : *files) list += (list.empty() ? "'" : ", '") + root + "/" + f.path + "'";
  std::string js;
  ASSERT_EQ(testing::duckdb_query("SELECT ind, name, age FROM read_parquet([" + list +
                                      "], union_by_name = true) ORDER BY ind",
                                  &js),
            0)
      << js;
  EXPECT_EQ(
      nlohmann::json::parse(js),
      nlohmann::json::parse(R"([{"ind":1,"name":"a","age":null},{"ind":2,"name":"b","age":30}])"))
      << js;
}

TEST(DeltaSchemaEvolution, NonAdditiveChangesAreRefusedNamingTableColumnAndWaysOut) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  ASSERT_TRUE(DeltaTable::open(root, "t", v2()).has_value());
  auto removed = DeltaTable::open(root, "t", v1());
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(removed.error().message().find("table t: column 'age' (long) is no longer configured"),
            std::string::npos)
      << removed.error().message();
  EXPECT_NE(removed.error().message().find("new name"), std::string::npos);
  EXPECT_NE(removed.error().message().find("replay --from-checkpoint"), std::string::npos);
  auto retyped = DeltaTable::open(
      root, "t",
      core::Schema(
          {{"ind", Type::kLong, false}, {"name", Type::kLong, true}, {"age", Type::kLong, true}}));
  ASSERT_FALSE(retyped.has_value());
  EXPECT_NE(retyped.error().message().find("column 'name' changes type from string to long"),
            std::string::npos)
      << retyped.error().message();
  auto not_null = DeltaTable::open(root, "t",
                                   core::Schema({{"ind", Type::kLong, false},
                                                 {"name", Type::kString, true},
                                                 {"age", Type::kLong, true},
                                                 {"x", Type::kLong, false}}));
  ASSERT_FALSE(not_null.has_value());
  EXPECT_NE(not_null.error().message().find("added column 'x' is NOT NULL"), std::string::npos);
  // Nothing was committed by the refusals.
  EXPECT_EQ(*(*DeltaTable::open(root, "t", v2()))->latest_version(), 0);
}

}  // namespace
}  // namespace pinstream::connectors::delta
