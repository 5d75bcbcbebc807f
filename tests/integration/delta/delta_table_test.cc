// The Delta log: version sequence, commit shape per the Delta protocol, txn idempotence,
// racing committers, RESTORE, crash between data file and commit, partitions. Data is read
// back with DuckDB over exactly the files our log replay finds active.
#include <filesystem>
#include <set>
#include <thread>

#include "tests/integration/delta/delta_test_util.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;

TEST(DeltaTable, CreatesVersionZeroAndCommitsFollowTheProtocolShape) {
  testing::TempDir dir;
  std::string root = (dir.path() / "pin").string();
  auto t = DeltaTable::open(root, "pin", pin_schema());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(*(*t)->latest_version(), 0);
  auto v0 = log_lines(root, 0);
  ASSERT_EQ(v0.size(), 3u);
  json protocol = v0[1]["protocol"], meta = v0[2]["metaData"];
  EXPECT_EQ(protocol, json({{"minReaderVersion", 1}, {"minWriterVersion", 2}}));
  EXPECT_EQ(meta["name"], "pin");
  EXPECT_EQ(meta["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(meta["format"], json({{"provider", "parquet"}, {"options", json::object()}}));
  EXPECT_EQ(meta["partitionColumns"], json::array());
  EXPECT_EQ(meta["configuration"], json::object());
  EXPECT_TRUE(meta["createdTime"].is_number_integer());
  json schema = json::parse(meta["schemaString"].get<std::string>());
  EXPECT_EQ(schema["type"], "struct");
  EXPECT_EQ(
      schema["fields"][0],
      json({{"name", "ind"}, {"type", "long"}, {"nullable", false}, {"metadata", json::object()}}));
  EXPECT_EQ(schema["fields"][3]["type"], "timestamp");
  EXPECT_EQ(schema["fields"][4]["type"],
            json({{"type", "array"}, {"elementType", "double"}, {"containsNull", true}}));

  CommitOutcome c = write_epoch(**t, 0, 10, "app-1", 1);
  EXPECT_EQ(c.version, 1);
  EXPECT_FALSE(c.skipped);
  auto v1 = log_lines(root, 1);
  ASSERT_EQ(v1.size(), 3u);
  EXPECT_EQ(v1[0]["commitInfo"]["operation"], "WRITE");
  EXPECT_EQ(v1[1]["txn"]["appId"], "app-1");
  EXPECT_EQ(v1[1]["txn"]["version"], 1);
  json add = v1[2]["add"];
  EXPECT_EQ(add["partitionValues"], json::object());
  EXPECT_EQ(add["dataChange"], true);
  EXPECT_EQ(add["size"].get<int64_t>(),
            static_cast<int64_t>(fs::file_size(root + "/" + add["path"].get<std::string>())));
  EXPECT_TRUE(add["modificationTime"].is_number_integer());
  json stats = json::parse(add["stats"].get<std::string>());
  EXPECT_EQ(stats["numRecords"], 10);
  EXPECT_EQ(stats["minValues"]["ind"], 0);
  EXPECT_EQ(stats["maxValues"]["ind"], 9);
  EXPECT_EQ(stats["minValues"]["category"], "cat-0");
  EXPECT_EQ(stats["maxValues"]["ts"], "2020-09-13T12:26:49.000Z");
  EXPECT_EQ(stats["nullCount"]["category"], 4);
  EXPECT_FALSE(stats["minValues"].contains("coords"));

  auto files = (*t)->active_files();
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 1u);
  json rows =
      duck("SELECT ind, category, score, coords FROM " + scan(root, *files) + " ORDER BY ind");
  ASSERT_EQ(rows.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    core::Row r = pin_row(i);
    EXPECT_EQ(rows[static_cast<size_t>(i)]["ind"], i);
    if (r[1].is_null())
      EXPECT_TRUE(rows[static_cast<size_t>(i)]["category"].is_null());
    else
      EXPECT_EQ(rows[static_cast<size_t>(i)]["category"], r[1].s);
    EXPECT_EQ(rows[static_cast<size_t>(i)]["score"], r[2].d);
    EXPECT_EQ(rows[static_cast<size_t>(i)]["coords"], json(r[4].arr));
  }
}

TEST(DeltaTable, TxnMakesCommitsIdempotent) {
  testing::TempDir dir;
  std::string root = (dir.path() / "t").string();
  auto t = DeltaTable::open(root, "t", pin_schema());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(write_epoch(**t, 0, 5, "app", 7).version, 1);
  CommitOutcome again = write_epoch(**t, 0, 5, "app", 7);
  EXPECT_TRUE(again.skipped);
  EXPECT_EQ(again.version, 1);
  EXPECT_TRUE(write_epoch(**t, 0, 5, "app", 6).skipped);
  EXPECT_FALSE(write_epoch(**t, 5, 8, "other", 1).skipped);
  EXPECT_EQ(*(*t)->latest_version(), 2);
  EXPECT_EQ((*t)->txn_version("app")->value(), 7);
  EXPECT_FALSE((*t)->txn_version("nobody")->has_value());
  // A second handle (another process) sees the same txn state.
  auto t2 = DeltaTable::open(root, "t", pin_schema());
  ASSERT_TRUE(t2.has_value());
  EXPECT_EQ((*t2)->txn_version("other")->value(), 1);
}

TEST(DeltaTable, RacingCommittersEachGetTheirOwnVersion) {
  testing::TempDir dir;
  std::string root = (dir.path() / "race").string();
  ASSERT_TRUE(DeltaTable::open(root, "race", pin_schema()).has_value());
  const int per_thread = 15;
  std::vector<std::vector<int64_t>> versions(2);
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      auto t = DeltaTable::open(root, "race", pin_schema());  // its own handle, as another process
      ASSERT_TRUE(t.has_value());
      for (int e = 1; e <= per_thread; ++e) {
        auto w = (*t)->new_writer();
        ASSERT_TRUE(w->append(pin_row(k * 1000 + e)).is_ok());
        auto adds = w->finish();
        ASSERT_TRUE(adds.has_value());
        auto c = (*t)->commit(*adds, "writer-" + std::to_string(k), e);
        ASSERT_TRUE(c.has_value()) << c.error().message();
        EXPECT_FALSE(c->skipped);
        versions[static_cast<size_t>(k)].push_back(c->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& v : versions) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 2u * per_thread);  // nobody overwrote anybody
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), 2 * per_thread);
  auto t = DeltaTable::open(root, "race", pin_schema());
  auto files = (*t)->active_files();
  ASSERT_EQ(files->size(), 2u * per_thread);
  json c = duck("SELECT count(*) AS n, count(DISTINCT ind) AS d FROM " + scan(root, *files));
  EXPECT_EQ(c[0]["n"], 2 * per_thread);
  EXPECT_EQ(c[0]["d"], 2 * per_thread);
}

TEST(DeltaTable, RestoreCommitsRemovesForLaterFilesAndReAddsRemovedOnes) {
  testing::TempDir dir;
  std::string root = (dir.path() / "r").string();
  auto t = DeltaTable::open(root, "r", pin_schema());
  ASSERT_TRUE(t.has_value());
  write_epoch(**t, 0, 10, "app", 1);   // v1
  write_epoch(**t, 10, 20, "app", 2);  // v2
  write_epoch(**t, 20, 30, "app", 3);  // v3
  auto at1 = (*t)->active_files();
  auto v = (*t)->restore(1);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, 4);
  auto lines = log_lines(root, 4);
  int removes = 0;
  for (const auto& l : lines) removes += l.contains("remove");
  EXPECT_EQ(removes, 2);
  auto files = (*t)->active_files();
  ASSERT_EQ(files->size(), 1u);
  json c = duck("SELECT count(*) AS n, max(ind) AS mx FROM " + scan(root, *files));
  EXPECT_EQ(c[0]["n"], 10);
  EXPECT_EQ(c[0]["mx"], 9);
  // Restoring to version 3 brings the removed files back.
  ASSERT_EQ(*(*t)->restore(3), 5);
  EXPECT_EQ((*t)->active_files()->size(), 3u);
  EXPECT_EQ((*t)->restore(42).error().code(), core::StatusCode::kInvalidArgument);
}

TEST(DeltaTable, CrashBetweenDataFileAndCommitLeavesTheFileInactive) {
  testing::TempDir dir;
  std::string root = (dir.path() / "c").string();
  {
    auto t = DeltaTable::open(root, "c", pin_schema());
    write_epoch(**t, 0, 3, "app", 1);
    auto w = (*t)->new_writer();
    ASSERT_TRUE(w->append(pin_row(99)).is_ok());
    auto staged = w->finish();  // written and fsynced, then "crash" before commit
    ASSERT_TRUE(staged.has_value());
    ASSERT_TRUE(fs::exists(root + "/" + (*staged)[0].path));
  }
  auto t = DeltaTable::open(root, "c", pin_schema());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*(*t)->latest_version(), 1);
  auto files = (*t)->active_files();
  ASSERT_EQ(files->size(), 1u);
  json c = duck("SELECT count(*) AS n, max(ind) AS mx FROM " + scan(root, *files));
  EXPECT_EQ(c[0]["n"], 3);
  EXPECT_EQ(c[0]["mx"], 2);
  // The redo of the epoch (same txn) is committed exactly once.
  EXPECT_FALSE(write_epoch(**t, 3, 4, "app", 2).skipped);
  EXPECT_TRUE(write_epoch(**t, 3, 4, "app", 2).skipped);
}

TEST(DeltaTable, OtherSchemaOrBadPartitionColumnIsRejected) {
  testing::TempDir dir;
  std::string root = (dir.path() / "s").string();
  ASSERT_TRUE(DeltaTable::open(root, "s", pin_schema()).has_value());
  core::Schema other({{"ind", Type::kLong, false}});
  EXPECT_EQ(DeltaTable::open(root, "s", other).error().code(), core::StatusCode::kInvalidArgument);
  TableOptions o;
  o.partition_columns = {"coords"};
  EXPECT_EQ(DeltaTable::open((dir.path() / "p").string(), "p", pin_schema(), o).error().code(),
            core::StatusCode::kInvalidArgument);
}

TEST(DeltaTable, PartitionedTableWritesOneFilePerValueWithPartitionValues) {
  testing::TempDir dir;
  std::string root = (dir.path() / "part").string();
  TableOptions o;
  o.partition_columns = {"category"};
  auto t = DeltaTable::open(root, "part", pin_schema(), o);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  write_epoch(**t, 0, 12, "app", 1);
  auto files = (*t)->active_files();
  ASSERT_EQ(files->size(), 5u);  // cat-0 .. cat-3 and null
  std::set<std::string> values;
  for (const auto& f : *files) {
    ASSERT_EQ(f.partition_values.count("category"), 1u);
    values.insert(f.partition_values.at("category"));
    EXPECT_EQ(f.path.rfind("category=", 0), 0u) << f.path;
  }
  EXPECT_EQ(values, (std::set<std::string>{"", "cat-0", "cat-1", "cat-2", "cat-3"}));
  json meta = log_lines(root, 0)[2]["metaData"];
  EXPECT_EQ(meta["partitionColumns"], json::array({"category"}));
  std::string list = scan(root, *files);
  list = list.substr(0, list.size() - 1) + ", hive_partitioning = true)";
  json c =
      duck("SELECT category, count(*) AS n FROM " + list + " GROUP BY 1 ORDER BY 1 NULLS LAST");
  ASSERT_EQ(c.size(), 5u) << c.dump();
  EXPECT_EQ(c[0]["category"], "cat-0");
  EXPECT_EQ(c[0]["n"], 2);  // 4 and 8 (0 is null)
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
