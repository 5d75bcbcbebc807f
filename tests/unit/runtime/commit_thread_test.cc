#include "stream/commit_thread.h"

#include <gtest/gtest.h>

namespace pinstream::runtime {
namespace {

constexpr size_t kMiB = 1u << 20;

TEST(TrimRule, NothingIsGivenBackAtOrUnder128MiBResidentHoweverMuchIsFree) {
  EXPECT_FALSE(trim_is_worth_it(100 * kMiB, 10 * kMiB));
  EXPECT_FALSE(trim_is_worth_it(128 * kMiB, 0));
}

TEST(TrimRule, OverTheBudgetOnlyMoreThan32MiBNotInTheHeapsUseIsWorthAPass) {
  EXPECT_TRUE(trim_is_worth_it(200 * kMiB, 150 * kMiB));
  EXPECT_TRUE(trim_is_worth_it(129 * kMiB, 96 * kMiB));
  EXPECT_FALSE(trim_is_worth_it(200 * kMiB, 168 * kMiB));  // exactly 32 MiB free
  EXPECT_FALSE(trim_is_worth_it(200 * kMiB, 190 * kMiB));
  // A heap over the resident size (pages never touched count in it) is never trimmed.
  EXPECT_FALSE(trim_is_worth_it(200 * kMiB, 300 * kMiB));
}

}  // namespace
}  // namespace pinstream::runtime
