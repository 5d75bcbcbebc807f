// The files source under the faults of issue 14: files that appear late, lines still being
// written, lines far over the size limit, a root that does not exist.
#include <gtest/gtest.h>

#include <fstream>

#include "stream/core/sha256.h"
#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::connectors::files {
namespace {
namespace fs = std::filesystem;

void append(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << text;
}

std::string topic_yaml(const TempDir& dir) {
  return "settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n";
}

// Polls once; returns the records.
std::vector<core::RawRecord> poll_once(Source& src, size_t max = 100) {
  core::Batch batch;
  auto n = src.poll(batch, std::chrono::milliseconds(0), max);
  EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message());
  return {batch.records.begin(), batch.records.begin() + static_cast<std::ptrdiff_t>(batch.size)};
}

FilePosition decoded(const Source& src, const std::string& partition) {
  FilePosition p;
  auto all = src.positions();
  EXPECT_TRUE(decode_position(all[partition], p)) << all[partition];
  return p;
}

TEST(FilesTracking, AFileThatAppearsBeforeFilesAlreadyReadIsStillRead) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+100.json", "3\n4\n");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source).size(), 2u);
  EXPECT_EQ(f.source->lag().at(0), 0);
  // A parallel sync delivers the earlier file last.
  write_file(p0 / "t+0+0.json", "1\n2\n");
  EXPECT_FALSE(f.source->drained());  // its final look finds the new file
  EXPECT_EQ(f.source->lag().at(0), 4) << "the late file counts in the lag";
  EXPECT_EQ(drain(*f.source),
            (std::vector<std::string>{"t/0|t+0+0.json:1|1", "t/0|t+0+0.json:2|2"}));
  EXPECT_EQ(f.source->lag().at(0), 0);
  FilePosition pos = decoded(*f.source, "t/0");
  EXPECT_EQ(pos.file, "t+0+0.json");
  EXPECT_EQ(pos.line, 2);
  EXPECT_EQ(pos.done, std::vector<std::string>{"t+0+100.json"});
}

TEST(FilesTracking, ALateFileIsStillReadAfterARestart) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+0.json", "1\n");
  write_file(p0 / "t+0+100.json", "3\n");
  core::Positions committed;
  {
    Fixture f(topic_yaml(dir), {"s"});
    ASSERT_TRUE(f.source->open({}).is_ok());
    EXPECT_EQ(drain(*f.source).size(), 2u);
    committed = f.source->positions();
  }
  write_file(p0 / "t+0+50.json", "2\n");
  write_file(p0 / "t+0+200.json", "4\n");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open(committed).is_ok());
  EXPECT_EQ(drain(*f.source),
            (std::vector<std::string>{"t/0|t+0+50.json:1|2", "t/0|t+0+200.json:1|4"}));
}

TEST(FilesTracking, ItsOwnPositionsResumeExactlyWhereTheyStood) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+0.json", "1\n2\n3\n");
  write_file(p0 / "t+0+3.json", "4\n5\n");
  std::vector<std::string> all;
  core::Positions at;
  for (int run = 0; run < 6; ++run) {
    Fixture f(topic_yaml(dir), {"s"});
    ASSERT_TRUE(f.source->open(at).is_ok());
    for (const auto& r : poll_once(*f.source, 1)) all.push_back(r.position + "|" + r.bytes);
    at = f.source->positions();
  }
  EXPECT_EQ(all, (std::vector<std::string>{"t+0+0.json:1|1", "t+0+0.json:2|2", "t+0+0.json:3|3",
                                           "t+0+3.json:1|4", "t+0+3.json:2|5"}));
}

TEST(FilesTracking, DoneNamesOfRemovedFilesAreForgotten) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  for (int i = 0; i < 4; ++i) write_file(p0 / ("t+0+" + std::to_string(i) + ".json"), "x\n");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source).size(), 4u);
  EXPECT_EQ(decoded(*f.source, "t/0").done.size(), 3u);
  fs::remove(p0 / "t+0+0.json");
  fs::remove(p0 / "t+0+1.json");  // retention
  EXPECT_TRUE(f.source->drained());
  EXPECT_EQ(decoded(*f.source, "t/0").done, std::vector<std::string>{"t+0+2.json"});
}

TEST(FilesTracking, APartialLastLineWaitsForItsNewline) {
  TempDir dir;
  auto file = dir.path() / "topics/t/partition=0/t+0+0.json";
  write_file(file, "{\"a\":1}\n{\"a\"");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source), std::vector<std::string>{"t/0|t+0+0.json:1|{\"a\":1}"});
  EXPECT_EQ(decoded(*f.source, "t/0").line, 1);
  append(file, ":2}\n{\"a\":3}\n");
  EXPECT_EQ(drain(*f.source),
            (std::vector<std::string>{"t/0|t+0+0.json:2|{\"a\":2}", "t/0|t+0+0.json:3|{\"a\":3}"}));
}

TEST(FilesTracking, AtTheEndOfTheRunAPartialLineIsHandedOutTruncatedOnce) {
  TempDir dir;
  auto file = dir.path() / "topics/t/partition=0/t+0+0.json";
  write_file(file, "1\n{\"a\"");
  core::Positions committed;
  {
    Fixture f(topic_yaml(dir), {"s"});
    ASSERT_TRUE(f.source->open({}).is_ok());
    EXPECT_EQ(drain(*f.source).size(), 1u);
    ASSERT_TRUE(f.source->release_partial());
    auto recs = poll_once(*f.source);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].cut, core::RecordCut::kTruncated);
    EXPECT_EQ(recs[0].bytes, "{\"a\"");
    EXPECT_EQ(recs[0].position, "t+0+0.json:2");
    EXPECT_FALSE(f.source->release_partial());
    EXPECT_TRUE(f.source->drained());
    committed = f.source->positions();
  }
  {  // Restarted before the line is finished: it was handed out already.
    Fixture f(topic_yaml(dir), {"s"});
    ASSERT_TRUE(f.source->open(committed).is_ok());
    EXPECT_TRUE(drain(*f.source).empty());
    f.source->release_partial();
    EXPECT_TRUE(poll_once(*f.source).empty());
    EXPECT_FALSE(f.source->release_partial());
  }
  // The writer finishes the line: the line counter has not drifted.
  append(file, ":2}\n3\n");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open(committed).is_ok());
  EXPECT_EQ(drain(*f.source), std::vector<std::string>{"t/0|t+0+0.json:3|3"});
}

TEST(FilesTracking, LaterFilesWaitBehindAPartialLineUntilItIsReleased) {
  TempDir dir;
  auto p0 = dir.path() / "topics/t/partition=0";
  write_file(p0 / "t+0+0.json", "1\n2");
  write_file(p0 / "t+0+2.json", "3\n");
  Fixture f(topic_yaml(dir), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source), std::vector<std::string>{"t/0|t+0+0.json:1|1"});
  EXPECT_GT(f.source->lag().at(0), 0);
  EXPECT_TRUE(f.source->drained()) << "nothing can be read until the newline or the release";
  ASSERT_TRUE(f.source->release_partial());
  EXPECT_EQ(drain(*f.source),
            (std::vector<std::string>{"t/0|t+0+0.json:2|2", "t/0|t+0+2.json:1|3"}));
}

TEST(FilesTracking, ALineOverTheLimitIsSkippedToItsNewlineKeepingAPrefixAndHash) {
  TempDir dir;
  const std::string huge = "{\"x\":\"" + std::string(5 << 20, 'x') + "\"}";
  write_file(dir.path() / "topics/t/partition=0/t+0+0.json",
             "1\n" + huge + "\n" + huge + "\r\n" + std::string(1000, 'y') + "\n2\n");
  Fixture f(topic_yaml(dir), {"s"}, 1000);
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto recs = poll_once(*f.source);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].bytes, "1");
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(recs[i].cut, core::RecordCut::kOversized);
    EXPECT_EQ(recs[i].bytes, huge.substr(0, 64 * 1024));
    EXPECT_EQ(recs[i].full_size, huge.size());
    EXPECT_EQ(recs[i].full_sha256, core::sha256_hex(huge)) << "a \"\\r\\n\" line end is not hashed";
  }
  EXPECT_EQ(recs[3].cut, core::RecordCut::kWhole);  // at the limit: the cleaner decides
  EXPECT_EQ(recs[3].bytes.size(), 1000u);
  EXPECT_EQ(recs[4].position, "t+0+0.json:5");
  EXPECT_EQ(recs[4].bytes, "2");
}

TEST(FilesTracking, AnUnfinishedLongLineIsHandedOutTruncatedWithItsHash) {
  TempDir dir;
  const std::string huge(300000, 'z');
  write_file(dir.path() / "topics/t/partition=0/t+0+0.json", "1\n" + huge);
  Fixture f(topic_yaml(dir), {"s"}, 1000);
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source).size(), 1u);
  ASSERT_TRUE(f.source->release_partial());
  auto recs = poll_once(*f.source);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].cut, core::RecordCut::kTruncated);
  EXPECT_EQ(recs[0].bytes.size(), 64u * 1024);
  EXPECT_EQ(recs[0].full_size, huge.size());
  EXPECT_EQ(recs[0].full_sha256, core::sha256_hex(huge));
}

TEST(FilesTracking, AMissingRootOrGlobDirectoryIsAnErrorNamingIt) {
  TempDir dir;
  Fixture missing(
      "settings:\n  root: '" + (dir.path() / "typo").string() + "'\nstreams:\n  s: {topic: t}\n",
      {"s"});
  EXPECT_FALSE(missing.source);
  EXPECT_EQ(missing.error.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.error.message(),
            "test.yaml:2:9: key 'settings.root': files root (PINSTREAM_FILES) " +
                (dir.path() / "typo").string() +
                " does not exist or is not a directory; create it or correct the path");
  Fixture glob("streams:\n  s: {glob: '" + (dir.path() / "nope/*.json").string() + "'}\n", {"s"});
  EXPECT_FALSE(glob.source);
  EXPECT_NE(glob.error.message().find("the glob's directory " + (dir.path() / "nope").string() +
                                      " does not exist"),
            std::string::npos)
      << glob.error.message();
  // An empty root is fine: there is nothing to read yet.
  Fixture empty(topic_yaml(dir), {"s"});
  ASSERT_TRUE(empty.source) << empty.error.message();
  ASSERT_TRUE(empty.source->open({}).is_ok());
  EXPECT_TRUE(drain(*empty.source).empty());
}

}  // namespace
}  // namespace pinstream::connectors::files
