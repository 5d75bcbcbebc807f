// The hot path does not allocate once warmed up: a global operator new that counts calls,
// and the default cleaners run over the real data three times (two passes warm up the
// reused row, work row and parser buffers; the third must not allocate at all).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/support/test_support.h"
#include "transforms/cleaner.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

namespace {
void* counted_alloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every non-aligned form is replaced, so that memory always goes back to the same
// allocator (sanitizers check new/delete pairs).
void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

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
      if (pass == 2) before = g_allocations.load();
      for (const auto& line : lines) failures += !(*cleaner)->clean(line, row).is_ok();
    }
    long allocations = g_allocations.load() - before;
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(allocations, 0) << "allocations in a warmed-up pass over " << lines.size()
                              << " records";
    // The counter does see allocations (so the check above can fail).
    before = g_allocations.load();
    core::Row fresh;
    ASSERT_TRUE((*cleaner)->clean(lines.front(), fresh).is_ok());
    EXPECT_GT(g_allocations.load() - before, 0);
  }
}

}  // namespace
}  // namespace pinstream::transforms
