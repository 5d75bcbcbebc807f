// The files source's hot path does not allocate once warmed up: records are copied into the
// reused slots of the caller's batch, positions written into their reused strings, lines
// split in the reader's reused buffer. A global operator new counts the calls.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/counting_new.h"
#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::connectors::files {
namespace {

TEST(FilesSourceHotPath, PollsDoNotAllocateOnceWarmedUp) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 6000; ++i) {
    std::string line = "{\"ind\":" + std::to_string(i) + ",\"pad\":\"";
    line.resize(500, 'x');  // every record 500 bytes: a slot's first one sizes its buffer
    text += line + "\"}\n";
  }
  write_file(dir.path() / "topics/t/partition=0/t+0+0.json", text);
  Fixture f("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n", {"s"});
  ASSERT_TRUE(f.source) << f.error.message();
  ASSERT_TRUE(f.source->open({}).is_ok());
  Fixture cold("settings: {root: '" + dir.path().string() + "'}\nstreams:\n  s: {topic: t}\n",
               {"s"});
  ASSERT_TRUE(cold.source && cold.source->open({}).is_ok());
  core::Batch batch;
  size_t got = 0;
  long before = 0;
  while (got < 6000) {
    if (got >= 3000 && before == 0) before = testing::allocations();  // slots and buffers warm
    batch.clear();
    auto n = f.source->poll(batch, std::chrono::milliseconds(0), 4096);
    ASSERT_TRUE(n.has_value());
    ASSERT_GT(*n, 0u);
    got += *n;
  }
  EXPECT_EQ(got, 6000u);
  EXPECT_EQ(testing::allocations() - before, 0) << "allocations while polling 3,000 records";
  // The counter does see allocations (so the check above can fail): a cold source and batch.
  before = testing::allocations();
  core::Batch fresh;
  ASSERT_TRUE(cold.source->poll(fresh, std::chrono::milliseconds(0), 10).has_value());
  EXPECT_GT(testing::allocations() - before, 0);
}

}  // namespace
}  // namespace pinstream::connectors::files
