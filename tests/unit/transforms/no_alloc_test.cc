// The hot path does not allocate once warmed up: a global operator new that counts calls,
// and the default cleaners run over the real data three times (two passes warm up the
// reused row, work row and parser buffers; the third must not allocate at all).
#include <gtest/gtest.h>

#include "tests/support/counting_new.h"
#include "tests/support/test_support.h"
#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {

TEST(CleanerHotPath, DoesNotAllocateOnceWarmedUp) {
  auto root =
      core::load_config_file((testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
  ASSERT_TRUE(root.has_value()) << root.error().message();
  for (const char* stream : {"pin", "geo", "user"}) {
    SCOPED_TRACE(stream);
    const core::ConfigNode* s = root->find("streams")->find(stream);
    auto cleaner = Cleaner::build(*s->find("input"), s->find("steps"), "ind", 1 << 20);
    ASSERT_TRUE(cleaner.has_value()) << cleaner.error().message();
    auto lines = testing::read_lines(testing::shared_data_dir() / (std::string(stream) + ".jsonl"));
    ASSERT_FALSE(lines.empty());
    core::Row row;
    long before = 0;
    size_t failures = 0;
    for (int pass = 0; pass < 3; ++pass) {
      if (pass == 2) before = testing::allocations();
      for (const auto& line : lines) failures += !(*cleaner)->clean(line, row).is_ok();
    }
    long allocations = testing::allocations() - before;
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(allocations, 0) << "allocations in a warmed-up pass over " << lines.size()
                              << " records";
    // The counter does see allocations (so the check above can fail).
    before = testing::allocations();
    core::Row fresh;
    ASSERT_TRUE((*cleaner)->clean(lines.front(), fresh).is_ok());
    EXPECT_GT(testing::allocations() - before, 0);
  }
}

}  // namespace
}  // namespace pinstream::transforms
