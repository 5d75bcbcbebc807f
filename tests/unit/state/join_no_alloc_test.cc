// The join's hot path does not allocate once warmed up: a global operator new that counts
// calls, and three rounds of posts whose parts arrive out of order with many waiting at once
// (the first two warm up the waiting slots, the index, the spare part rows and their
// string buffers; the third must not allocate at all).
#include <gtest/gtest.h>

#include "state/join.h"
#include "tests/support/counting_new.h"
#include "tests/support/test_support.h"

namespace pinstream::state {
namespace {
using core::Row;
using core::Schema;
using core::Type;
using core::Value;

std::vector<Schema> schemas() {
  return {Schema({{"ind", Type::kLong, false},
                  {"title", Type::kString, true},
                  {"description", Type::kString, true},
                  {"unused", Type::kString, true}}),
          Schema({{"country", Type::kString, true}, {"ind", Type::kLong, false}}),
          Schema({{"ind", Type::kLong, false}, {"age", Type::kLong, true}})};
}

// A part of post `key` with strings of lengths varying from post to post (up to 600 bytes).
void fill_part(uint32_t stream, int64_t key, Row& row) {
  auto text = [&](size_t len) { return std::string(len, static_cast<char>('a' + key % 26)); };
  const auto k = static_cast<size_t>(key);
  switch (stream) {
    case 0:
      row = {Value::of_long(key), Value::of_string(text(k * 7 % 90)),
             Value::of_string(text(k * 131 % 600)), Value::of_string(text(50))};
      break;
    case 1:
      row = {Value::of_string(text(k % 40)), Value::of_long(key)};
      break;
    default:
      row = {Value::of_long(key), Value::of_long(20 + key)};
  }
}

TEST(JoinHotPath, AddCopyDoesNotAllocateOnceWarmedUp) {
  testing::TempDir dir;
  auto store = StateStore::open((dir.path() / "state").string());
  ASSERT_TRUE(store.has_value()) << store.error().to_string();
  auto built = Join::build(**store, {"pin", "geo", "user"}, schemas(), "ind", 1LL << 40);
  ASSERT_TRUE(built.has_value()) << built.error().to_string();
  Join& j = **built;
  constexpr int64_t kPosts = 2000;
  // The rows to copy from, made before counting (the caller's rows are not the join's).
  std::vector<std::vector<Row>> rows(3, std::vector<Row>(kPosts));
  const std::vector<size_t> pin_columns{0, 1, 2};  // "unused" is not copied
  const std::vector<size_t> all_columns;
  Row out;
  PartFlags flags = PartFlags::kNone;
  long counted = 0;
  size_t joined = 0;
  for (int round = 0; round < 3; ++round) {
    const int64_t base = round * kPosts;  // new keys every round
    for (uint32_t s = 0; s < 3; ++s)
      for (int64_t k = 0; k < kPosts; ++k) fill_part(s, base + k, rows[s][static_cast<size_t>(k)]);
    const long before = testing::allocations();
    // geo first, then user, then pin: every post waits with one or two parts.
    for (uint32_t s : {1u, 2u, 0u}) {
      for (int64_t k = 0; k < kPosts; ++k) {
        const Row& row = rows[s][static_cast<size_t>(k)];
        const std::vector<size_t>& cols = s == 0 ? pin_columns : all_columns;
        auto done = j.add_copy(s, base + k, row, cols, PartFlags::kNone, 0, out, flags, 5);
        ASSERT_TRUE(done.has_value());
        joined += *done;
      }
    }
    if (round == 2) counted = testing::allocations() - before;
    StateStore::WriteBatch batch;  // an epoch's end; not counted
    j.flush(batch);
  }
  EXPECT_EQ(joined, 3u * kPosts);
  EXPECT_EQ(j.waiting(), 0u);
  EXPECT_EQ(counted, 0) << "allocations in a warmed-up round of " << 3 * kPosts << " parts";
  // The joined row holds the pin's copied columns, not the one left out.
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].i, 3 * kPosts - 1);
  EXPECT_TRUE(out[3].is_null());
  // The counter does see allocations (so the check above can fail).
  const long before = testing::allocations();
  Row fresh;
  fill_part(0, 1, fresh);
  EXPECT_GT(testing::allocations() - before, 0);
}

}  // namespace
}  // namespace pinstream::state
