// Checkpoints: written at version 10 as Parquet with the Delta protocol's nested columns,
// readable by DuckDB, and a reader starting from _last_checkpoint sees the same table.
#include <filesystem>
#include <set>

#include "connectors/delta/checkpoint.h"
#include "tests/integration/delta/delta_test_util.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;

std::set<std::string> paths(const std::vector<AddFile>& files) {
  std::set<std::string> out;
  for (const auto& f : files) out.insert(f.path);
  return out;
}

TEST(DeltaCheckpoint, WrittenAtVersionTenAndReadableByDuckDB) {
  testing::TempDir dir;
  std::string root = (dir.path() / "cp").string();
  TableOptions o;
  o.partition_columns = {"category"};
  auto t = DeltaTable::open(root, "cp", pin_schema(), o);
  ASSERT_TRUE(t.has_value());
  for (int e = 1; e <= 9; ++e) write_epoch(**t, e * 10, e * 10 + 3, "app", e);
  EXPECT_FALSE(fs::exists(root + "/_delta_log/_last_checkpoint"));
  ASSERT_TRUE((*t)->restore(7).has_value());  // v10 is a RESTORE: the checkpoint has tombstones
  std::string cp = root + "/_delta_log/00000000000000000010.checkpoint.parquet";
  ASSERT_TRUE(fs::exists(cp));
  json last = json::parse(testing::read_file(root + "/_delta_log/_last_checkpoint"));
  EXPECT_EQ(last["version"], 10);
  auto active = (*t)->active_files();
  ASSERT_TRUE(active.has_value());

  json adds = duck(
      "SELECT add.path AS path, add.size AS size, add.stats AS stats, "
      "map_extract(add.partitionValues, 'category')[1] AS category FROM read_parquet('" +
      cp + "') WHERE add IS NOT NULL ORDER BY 1");
  ASSERT_EQ(adds.size(), active->size());
  std::set<std::string> from_duck;
  for (const auto& a : adds) {
    from_duck.insert(a["path"].get<std::string>());
    EXPECT_GT(a["size"].get<int64_t>(), 0);
    EXPECT_EQ(json::parse(a["stats"].get<std::string>())["numRecords"].get<int>() > 0, true);
  }
  EXPECT_EQ(from_duck, paths(*active));
  json other = duck(
      "SELECT protocol.minReaderVersion AS r, protocol.minWriterVersion AS w FROM read_parquet('" +
      cp + "') WHERE protocol IS NOT NULL");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]["r"], 1);
  EXPECT_EQ(other[0]["w"], 2);
  json meta = duck(
      "SELECT metaData.name AS name, metaData.partitionColumns AS pc, metaData.format.provider AS "
      "fmt, "
      "metaData.schemaString AS s FROM read_parquet('" +
      cp + "') WHERE metaData IS NOT NULL");
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0]["name"], "cp");
  EXPECT_EQ(meta[0]["pc"], json::array({"category"}));
  EXPECT_EQ(meta[0]["fmt"], "parquet");
  EXPECT_EQ(meta[0]["s"], schema_string(pin_schema()));
  json txn = duck("SELECT txn.appId AS a, txn.version AS v FROM read_parquet('" + cp +
                  "') WHERE txn IS NOT NULL");
  ASSERT_EQ(txn.size(), 1u);
  EXPECT_EQ(txn[0]["v"], 9);
  json removes =
      duck("SELECT count(*) AS n FROM read_parquet('" + cp + "') WHERE remove IS NOT NULL");
  EXPECT_GT(removes[0]["n"].get<int>(), 0);
}

TEST(DeltaCheckpoint, ReaderStartingFromLastCheckpointSeesTheSameTable) {
  testing::TempDir dir;
  std::string root = (dir.path() / "cp2").string();
  auto t = DeltaTable::open(root, "cp2", pin_schema());
  ASSERT_TRUE(t.has_value());
  for (int e = 1; e <= 12; ++e) write_epoch(**t, e * 10, e * 10 + 2, "app", e);
  ASSERT_TRUE(fs::exists(checkpoint_path(root + "/_delta_log", 10)));
  auto before = (*t)->active_files();
  ASSERT_EQ(before->size(), 12u);
  // The checkpoint read back alone matches a JSON replay to version 10.
  auto snap = read_checkpoint(root + "/_delta_log", 10);
  ASSERT_TRUE(snap.has_value()) << snap.error().message();
  EXPECT_EQ(snap->active.size(), 10u);
  EXPECT_EQ(snap->txn.at("app"), 10);
  EXPECT_EQ(snap->schema_string, schema_string(pin_schema()));
  for (const auto& f : *before) {
    if (!snap->active.count(f.path)) continue;
    EXPECT_EQ(snap->active.at(f.path).size, f.size);
    EXPECT_EQ(snap->active.at(f.path).stats_json, f.stats_json);
  }
  // Prove the new reader starts from the checkpoint: the JSON commits before it are gone.
  for (int v = 0; v <= 10; ++v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020d.json", v);
    fs::remove(root + "/_delta_log/" + buf);
  }
  auto fresh = DeltaTable::open(root, "cp2", pin_schema());
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
  EXPECT_EQ(*(*fresh)->latest_version(), 12);
  EXPECT_EQ((*fresh)->txn_version("app")->value(), 12);
  auto after = (*fresh)->active_files();
  EXPECT_EQ(paths(*after), paths(*before));
  EXPECT_TRUE(write_epoch(**fresh, 0, 1, "app", 12).skipped);
  json c = duck("SELECT count(*) AS n FROM " + scan(root, *after));
  EXPECT_EQ(c[0]["n"], 24);
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
