// Read-only inspection of a table's log and files (connectors/delta/inspect.h), and the
// CRC-32C that every data file we write carries in its add action's tags.
#include <filesystem>
#include <fstream>

#include "connectors/delta/inspect.h"
#include "stream/core/crc32c.h"
#include "tests/integration/delta/delta_test_util.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;

struct Table {
  testing::TempDir dir;
  std::string root = (dir.path() / "pin").string();
  std::unique_ptr<DeltaTable> t;
  Table() {
    auto opened = DeltaTable::open(root, "pin", pin_schema());
    EXPECT_TRUE(opened.has_value());
    t = std::move(*opened);
    for (int64_t v = 1; v <= 4; ++v) write_epoch(*t, v * 10, v * 10 + 10, "app", v);
  }
  std::string commit(int64_t v) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(v));
    return root + "/_delta_log/" + buf;
  }
};

TEST(DeltaInspect, DataFilesCarryTheirCrc32cAndAnIntactTableHasNoProblem) {
  Table tb;
  auto files = tb.t->active_files();
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 4u);
  for (const auto& f : *files) {
    std::string bytes = testing::read_file(tb.root + "/" + f.path);
    ASSERT_EQ(f.tags.count(kCrc32cTag), 1u);
    EXPECT_EQ(f.tags.at(kCrc32cTag), core::crc32c_hex(core::crc32c(bytes)));
  }
  EXPECT_EQ(max_commit_version(tb.root + "/_delta_log"), 4);
  LogReport r = inspect_log(tb.root);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_EQ(r.snapshot.version, 4);
  EXPECT_EQ(r.snapshot.txn.at("app"), 4);
  int64_t checked = 0;
  EXPECT_TRUE(check_files(tb.root, r.snapshot, checked).empty());
  EXPECT_EQ(checked, 4);
}

TEST(DeltaInspect, MissingShortAndCorruptDataFilesAreNamed) {
  Table tb;
  std::vector<AddFile> files = tb.t->active_files().value();
  fs::remove(tb.root + "/" + files[0].path);
  fs::resize_file(tb.root + "/" + files[1].path, 100);
  {
    std::fstream f(tb.root + "/" + files[2].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(50);
    f.write("\x7f\x7f", 2);
  }
  int64_t checked = 0;
  auto problems = check_files(tb.root, inspect_log(tb.root).snapshot, checked);
  ASSERT_EQ(problems.size(), 3u);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find(files[0].path + " is missing"), std::string::npos) << all;
  EXPECT_NE(all.find(files[1].path + " has 100 bytes, its add action says "), std::string::npos)
      << all;
  EXPECT_NE(all.find(files[2].path + " is corrupt: CRC-32C "), std::string::npos) << all;
}

TEST(DeltaInspect, GapEmptyAndUnreadableCommitsAreNamed) {
  {
    Table tb;
    fs::remove(tb.commit(2));
    auto r = inspect_log(tb.root);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0], "Delta commit " + tb.commit(2) + " is missing (version 4 exists)");
    EXPECT_EQ(r.snapshot.version, 1);
  }
  {
    Table tb;
    fs::resize_file(tb.commit(4), 0);
    EXPECT_EQ(inspect_log(tb.root).problems.at(0),
              "Delta commit " + tb.commit(4) + " is empty (0 bytes)");
    // Opening the table refuses it too, naming the file.
    auto again = DeltaTable::open(tb.root, "pin", pin_schema());
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code(), core::StatusCode::kCorruption);
    EXPECT_NE(again.error().message().find(tb.commit(4) + " of table pin is empty"),
              std::string::npos);
  }
  {
    Table tb;
    testing::write_file(tb.commit(3), "{\"add\": not json\n");
    EXPECT_NE(inspect_log(tb.root).problems.at(0).find(tb.commit(3) + " is unreadable"),
              std::string::npos);
  }
}

TEST(DeltaInspect, TagsSurviveACheckpointAndRestore) {
  testing::TempDir dir;
  std::string root = (dir.path() / "pin").string();
  auto t = DeltaTable::open(root, "pin", pin_schema()).value();
  for (int64_t v = 1; v <= 11; ++v) write_epoch(*t, v * 10, v * 10 + 2, "app", v);
  ASSERT_TRUE(fs::exists(root + "/_delta_log/00000000000000000010.checkpoint.parquet"));
  auto fresh = DeltaTable::open(root, "pin", pin_schema()).value();  // reads the checkpoint
  std::vector<AddFile> files = fresh->active_files().value();
  ASSERT_EQ(files.size(), 11u);
  for (const auto& f : files) EXPECT_EQ(f.tags.count(kCrc32cTag), 1u) << f.path;
  ASSERT_TRUE(fresh->restore(3).has_value());
  files = fresh->active_files().value();
  ASSERT_EQ(files.size(), 3u);
  for (const auto& f : files) EXPECT_EQ(f.tags.count(kCrc32cTag), 1u) << f.path;
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
