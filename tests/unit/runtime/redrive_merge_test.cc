// RedriveMerge: queued dead letters are handed out between the configured source's polls
// under stable partition indices, each at most once, their marks among the positions.
#include "stream/redrive_merge.h"

#include <gtest/gtest.h>

namespace pinstream::runtime {
namespace {

// A configured source whose partitions appear when the test says so.
class FakeSource final : public connectors::Source {
 public:
  core::Status open(const core::Positions&) override { return core::Status::ok(); }
  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds, size_t) override {
    if (refs.empty()) return size_t{0};
    core::RawRecord& r = out.next();
    r.partition = static_cast<uint32_t>(refs.size() - 1);  // the newest partition
    r.position = "p" + std::to_string(++polled);
    return size_t{1};
  }
  const std::vector<core::PartitionRef>& partitions() const override { return refs; }
  core::Positions positions() const override { return {{"t/0", std::to_string(polled)}}; }
  bool drained() const override { return true; }
  std::vector<core::PartitionRef> refs;
  int polled = 0;
};

TEST(RedriveMerge, HandsOutQueuedRecordsOnceUnderStableIndices) {
  auto fake = std::make_unique<FakeSource>();
  FakeSource* inner = fake.get();
  inner->refs.push_back({"t/0", 0});
  RedriveMerge merge(std::move(fake));
  ASSERT_TRUE(merge.open({{"redrive:t/9", R"(["old"])"}}).is_ok());
  EXPECT_TRUE(merge.taken("t/9", "old"));  // committed by an earlier redrive
  std::map<std::string, int64_t> by_stream;
  auto queued = merge.enqueue(
      {{0, "pin", "t/9", "old", "x"}, {0, "pin", "t/9", "new", "y"}, {0, "pin", "t/9", "new", "y"}},
      by_stream);
  EXPECT_EQ(by_stream["pin"], 1);
  EXPECT_EQ(queued["redrive:t/9"], std::set<std::string>{"new"});
  EXPECT_FALSE(merge.drained());

  core::Batch batch;
  ASSERT_EQ(*merge.poll(batch, std::chrono::milliseconds(0), 10), 1u);
  ASSERT_EQ(merge.partitions().size(), 2u);
  EXPECT_EQ(merge.partitions()[1].id, "redrive:t/9");
  EXPECT_EQ(batch.records[0].partition, 1u);
  EXPECT_EQ(batch.records[0].bytes, "y");
  EXPECT_TRUE(merge.drained());

  // A partition of the configured source that appears now comes after the redrive one.
  inner->refs.push_back({"t/1", 0});
  batch.clear();
  ASSERT_EQ(*merge.poll(batch, std::chrono::milliseconds(0), 10), 1u);
  ASSERT_EQ(merge.partitions().size(), 3u);
  EXPECT_EQ(merge.partitions()[2].id, "t/1");
  EXPECT_EQ(batch.records[0].partition, 2u);

  core::Positions pos = merge.positions();
  EXPECT_EQ(pos["redrive:t/9"], R"(["new","old"])");
  EXPECT_EQ(pos["t/0"], "1");
  by_stream.clear();
  EXPECT_TRUE(merge.enqueue({{0, "pin", "t/9", "new", "y"}}, by_stream).empty());
}

}  // namespace
}  // namespace pinstream::runtime
