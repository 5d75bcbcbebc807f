#include "connectors/files/files_source.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::connectors::files {
namespace {

TEST(FilesSource, ReadsS3SinkLayoutInOffsetOrderPerPartition) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t.pin/partition=0";
  write_file(p0 / "t.pin+0+9999.json", "{\"a\":2}\n\n{\"a\":3}\n");
  write_file(p0 / "t.pin+0+0.json", "{\"a\":1}\n");
  write_file(p0 / "t.pin+0+10000.json", "{\"a\":4}\r\n");
  write_file(dir.path() / "topics/t.pin/partition=1/t.pin+1+0.json", "{\"b\":1}\n{\"b\":2}\n");
  Fixture f("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  pin: {topic: t.pin}\n",
            {"pin"});
  ASSERT_TRUE(f.source) << f.error.message();
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto recs = drain(*f.source);
  std::map<std::string, std::vector<std::string>> by_part;
  for (const auto& r : recs) by_part[r.substr(0, r.find('|'))].push_back(r);
  ASSERT_EQ(by_part.size(), 2u);
  EXPECT_EQ(
      by_part["t.pin/0"],
      (std::vector<std::string>{
          "t.pin/0|t.pin+0+0.json:1|{\"a\":1}", "t.pin/0|t.pin+0+9999.json:1|{\"a\":2}",
          "t.pin/0|t.pin+0+9999.json:3|{\"a\":3}", "t.pin/0|t.pin+0+10000.json:1|{\"a\":4}"}));
  EXPECT_EQ(by_part["t.pin/1"].size(), 2u);
  auto pos = f.source->positions();
  FilePosition p0pos, p1pos;
  ASSERT_TRUE(decode_position(pos["t.pin/0"], p0pos)) << pos["t.pin/0"];
  EXPECT_EQ(p0pos.file, "t.pin+0+10000.json");
  EXPECT_EQ(p0pos.line, 1);
  EXPECT_EQ(p0pos.done, (std::vector<std::string>{"t.pin+0+0.json", "t.pin+0+9999.json"}));
  ASSERT_TRUE(decode_position(pos["t.pin/1"], p1pos));
  EXPECT_EQ(p1pos.file, "t.pin+1+0.json");
  EXPECT_EQ(p1pos.line, 2);
  EXPECT_TRUE(p1pos.done.empty());
  EXPECT_TRUE(f.source->drained());
}

TEST(FilesSource, ResumesAfterRestoredPosition) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+0.json", "1\n2\n3\n");
  write_file(p0 / "t+0+3.json", "4\n5\n");
  Fixture f("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n", {"s"});
  ASSERT_TRUE(f.source);
  ASSERT_TRUE(f.source->open({{"t/0", "t+0+0.json:2"}}).is_ok());
  auto recs = drain(*f.source);
  EXPECT_EQ(recs, (std::vector<std::string>{"t/0|t+0+0.json:3|3", "t/0|t+0+3.json:1|4",
                                            "t/0|t+0+3.json:2|5"}));
}

TEST(FilesSource, PicksUpFilesThatAppearAfterDraining) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+0.json", "1\n");
  Fixture f("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n", {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source).size(), 1u);
  write_file(p0 / "t+0+1.json", "2\n3\n");
  write_file(dir.path() / "topics/t/partition=1/t+1+0.json", "9\n");
  EXPECT_FALSE(f.source->drained());
  auto more = drain(*f.source);
  EXPECT_EQ(more.size(), 3u);
}

TEST(FilesSource, GlobReadsMatchingFilesAsOnePartition) {
  TempDir dir;
  write_file(dir.path() / "in/b.ndjson", "b1\n");
  write_file(dir.path() / "in/a.ndjson", "a1\na2\n");
  write_file(dir.path() / "in/skip.txt", "x\n");
  Fixture f("streams:\n  s: {glob: '" + (dir.path() / "in/*.ndjson").string() + "'}\n", {"s"});
  ASSERT_TRUE(f.source) << f.error.message();
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto recs = drain(*f.source, 100);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_NE(recs[0].find("|a.ndjson:1|a1"), std::string::npos);
  EXPECT_NE(recs[2].find("|b.ndjson:1|b1"), std::string::npos);
}

TEST(FilesSource, ConfigErrorsNameTheKey) {
  Fixture none("streams:\n  s: {topic: t}\n", {"s"});
  EXPECT_FALSE(none.source);
  EXPECT_NE(none.error.message().find("needs source.files.root"), std::string::npos)
      << none.error.message();
  Fixture both("settings: {root: /tmp}\nstreams:\n  s: {topic: t, glob: '*.json'}\n", {"s"});
  EXPECT_FALSE(both.source);
  EXPECT_NE(both.error.message().find("test.yaml:3:"), std::string::npos) << both.error.message();
  Fixture typo("settings: {root: /tmp, rot: 1}\nstreams:\n  s: {topic: t}\n", {"s"});
  EXPECT_FALSE(typo.source);
  EXPECT_NE(typo.error.message().find("unknown key 'rot'"), std::string::npos);
}

// A poll stays near 128 KiB of record bytes (its records are decoded while still in the
// core's cache), however many records the caller allows; small records fill the count.
TEST(FilesSource, PollsAboutAFixedAmountOfBytes) {
  TempDir dir;
  const std::string long_line(999, 'x'), short_line = "{\"a\":1}";
  std::string big, small;
  for (int i = 0; i < 2000; ++i) big += long_line + "\n";
  for (int i = 0; i < 5000; ++i) small += short_line + "\n";
  write_file(dir.path() / "topics/big/partition=0/big+0+0.json", big);
  write_file(dir.path() / "topics/small/partition=0/small+0+0.json", small);
  for (std::string topic : {"big", "small"}) {
    Fixture f(
        "settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: " + topic + "}\n",
        {"s"});
    ASSERT_TRUE(f.source) << f.error.message();
    ASSERT_TRUE(f.source->open({}).is_ok());
    core::Batch batch;
    std::vector<size_t> sizes;
    size_t total = 0;
    for (int i = 0; i < 100 && total < (topic == "big" ? 2000u : 5000u); ++i) {
      batch.clear();
      auto n = f.source->poll(batch, std::chrono::milliseconds(0), 4096);
      ASSERT_TRUE(n.has_value());
      for (size_t k = 0; k < batch.size; ++k)
        ASSERT_EQ(batch.records[k].position, topic + "+0+0.json:" + std::to_string(total + k + 1));
      total += batch.size;
      sizes.push_back(batch.size);
    }
    ASSERT_GE(sizes.size(), 2u);
    if (topic == "big") {
      EXPECT_EQ(total, 2000u);
      for (size_t n : sizes) EXPECT_LE(n, 256u);  // at most 256 KB, then 128 KiB of lines
      EXPECT_EQ(sizes[1], 128u * 1024 / 999);
    } else {
      EXPECT_EQ(total, 5000u);
      EXPECT_EQ(sizes[1], 4096u);  // the caller's limit: 4,096 records are 28 KB
    }
  }
}

TEST(FilesPosition, ParsesNameAndLine) {
  std::string file;
  int64_t line = 0;
  EXPECT_TRUE(parse_position("a+0+1.json:17", file, line));
  EXPECT_EQ(file, "a+0+1.json");
  EXPECT_EQ(line, 17);
  EXPECT_FALSE(parse_position("nocolon", file, line));
  EXPECT_FALSE(parse_position("f:x", file, line));
}

}  // namespace
}  // namespace pinstream::connectors::files
