// --available-now's end positions, per source kind, without a remote end: the files source
// stops at the files and sizes present when the ends were fixed (a line still being
// written, lines appended later and files that appear later wait for the next run, which
// starts exactly there), and the Kinesis shard ends compare sequence numbers as numbers and
// cut a GetRecords page at the end.
#include <fstream>

#include "connectors/kinesis/shard_ends.h"
#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::connectors::files {
namespace {

void append(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::app) << text;
}

TEST(FilesEnd, StopsAtTheBytesPresentWhenFixedAndTheNextRunTakesExactlyTheRest) {
  TempDir dir;
  const auto part = dir.path() / "topics/t/partition=0";
  write_file(part / "t+0+0.json", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4");  // 4th in writing
  const std::string yaml =
      "settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n";
  Fixture f(yaml, {"s"});
  ASSERT_TRUE(f.source) << f.error.to_string();
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto ends = f.source->fix_end_positions();
  ASSERT_TRUE(ends.has_value());
  EXPECT_EQ(ends->at("t/0"), "{\"bytes\":30,\"files\":1,\"last\":\"t+0+0.json\"}");
  append(part / "t+0+0.json", "}\n{\"a\":5}\n");  // written after the start
  write_file(part / "t+0+10.json", "{\"b\":1}\n");
  auto first = drain(*f.source);
  EXPECT_EQ(first,
            (std::vector<std::string>{"t/0|t+0+0.json:1|{\"a\":1}", "t/0|t+0+0.json:2|{\"a\":2}",
                                      "t/0|t+0+0.json:3|{\"a\":3}"}));
  EXPECT_TRUE(f.source->drained());
  EXPECT_FALSE(f.source->release_partial());  // the line in writing is not cut short
  const core::Positions committed = f.source->positions();

  Fixture next(yaml, {"s"});
  ASSERT_TRUE(next.source->open(committed).is_ok());
  ASSERT_TRUE(next.source->fix_end_positions().has_value());
  EXPECT_EQ(drain(*next.source),
            (std::vector<std::string>{"t/0|t+0+0.json:4|{\"a\":4}", "t/0|t+0+0.json:5|{\"a\":5}",
                                      "t/0|t+0+10.json:1|{\"b\":1}"}));
}

TEST(FilesEnd, APartitionThatAppearsAfterTheStartWaitsForTheNextRun) {
  TempDir dir;
  write_file(dir.path() / "topics/t/partition=0/t+0+0.json", "{\"a\":1}\n");
  Fixture f("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n", {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  ASSERT_TRUE(f.source->fix_end_positions().has_value());
  write_file(dir.path() / "topics/t/partition=1/t+1+0.json", "{\"a\":2}\n");
  EXPECT_EQ(drain(*f.source), (std::vector<std::string>{"t/0|t+0+0.json:1|{\"a\":1}"}));
}

}  // namespace
}  // namespace pinstream::connectors::files

namespace pinstream::connectors::kinesis {
namespace {

TEST(KinesisShardEnds, SequenceNumbersCompareAsNumbers) {
  EXPECT_TRUE(sequence_less("9", "10"));
  EXPECT_FALSE(sequence_less("10", "9"));
  EXPECT_TRUE(sequence_less("49590338271490256608559692538361571095921575989136588898",
                            "49590338271490256608559692540925702759324208523137515618"));
  EXPECT_FALSE(sequence_less("5", "5"));
}

TEST(KinesisShardEnds, APageIsCutAtTheEndAndTheShardIsDone) {
  ShardEnds ends;
  ends.set("s/a", {ShardEnds::Kind::kSequence, "30"});
  ends.set("s/empty", {ShardEnds::Kind::kEmpty, ""});
  ends.set("s/closed", {ShardEnds::Kind::kClosed, ""});
  core::Batch batch;
  for (const char* seq : {"9", "10", "30", "31", "100"}) batch.next().position = seq;
  EXPECT_FALSE(ends.done("s/a", "10", false));
  EXPECT_EQ(ends.clip("s/a", batch, 1), 2u);  // "10" and "30" of the entries from index 1
  EXPECT_EQ(batch.size, 3u);
  EXPECT_TRUE(ends.done("s/a", "30", false));
  EXPECT_TRUE(ends.done("s/empty", "", false));
  EXPECT_FALSE(ends.done("s/closed", "77", false));  // read to its end
  EXPECT_TRUE(ends.done("s/closed", "77", true));
  EXPECT_TRUE(ends.done("s/child-after-start", "", false));  // not read in this run
  EXPECT_EQ(ShardEnds::describe({ShardEnds::Kind::kClosed, ""}), "closed");
}

TEST(KinesisShardEnds, ARestoredPositionAtTheEndNeedsNoReading) {
  ShardEnds ends;
  ends.set("s/a", {ShardEnds::Kind::kSequence, "30"});
  EXPECT_TRUE(ends.done("s/a", "30", false));
  EXPECT_TRUE(ends.done("s/a", "31", false));
  EXPECT_FALSE(ends.done("s/a", "", false));
}

}  // namespace
}  // namespace pinstream::connectors::kinesis
