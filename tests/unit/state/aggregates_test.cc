#include "state/aggregates.h"

#include "state/codec.h"

// Posts are written with designated initializers naming only the fields a test needs.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::state {
namespace {
using pinstream::testing::TempDir;
using namespace pinstream::state::test;  // NOLINT

class AggregatesTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(StateStore::open((dir_ / "db").string())).value(); }

  std::unique_ptr<Aggregates> build(const std::string& yaml,
                                    const std::string& event_time = "timestamp") {
    root_ = parse(yaml);
    auto a = Aggregates::build(*store_, *root_.find("aggregates"), posts_schema(), event_time);
    EXPECT_TRUE(a.has_value()) << a.error().to_string();
    return a.has_value() ? std::move(a).value() : nullptr;
  }
  core::Status build_error(const std::string& yaml, const std::string& event_time = "timestamp") {
    root_ = parse(yaml, "aggs.yaml");
    auto a = Aggregates::build(*store_, *root_.find("aggregates"), posts_schema(), event_time);
    return a.has_value() ? core::Status::ok() : a.error();
  }
  // Committed rows of aggregate `name`, each as "a|b|c".
  std::vector<std::string> rows(const Aggregates& a, const std::string& name) {
    std::vector<core::Row> out;
    EXPECT_TRUE(a.read_rows(*a.find(name), store_->live(), out).is_ok());
    std::vector<std::string> text;
    for (const auto& r : out) {
      std::string s;
      for (size_t i = 0; i < r.size(); ++i) s += (i ? "|" : "") + r[i].to_string();
      text.push_back(s);
    }
    return text;
  }
  void update(Aggregates& a, const Post& p, bool late = false) {
    ASSERT_TRUE(a.update(row_of(p), late).is_ok());
  }

  TempDir dir_;
  std::unique_ptr<StateStore> store_;
  core::ConfigNode root_;
};

using Rows = std::vector<std::string>;

TEST_F(AggregatesTest, CountPerGroupLeavesOutNullGroupKeys) {
  auto a = build("aggregates:\n  by_cc: {group_by: [country, category], measure: count}\n");
  update(*a, {.ind = 1, .category = "art", .country = "FR"});
  update(*a, {.ind = 2, .category = "art", .country = "FR"});
  update(*a, {.ind = 3, .category = "tech", .country = "FR"});
  update(*a, {.ind = 4, .category = "art", .country = std::nullopt});
  update(*a, {.ind = 5, .category = std::nullopt, .country = "DE"});
  EXPECT_TRUE(rows(*a, "by_cc").empty()) << "nothing is visible before the flush";
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "by_cc"), (Rows{"FR|art|2", "FR|tech|1"}));
}

TEST_F(AggregatesTest, SumMinMaxIgnoreNulls) {
  auto a = build(
      "aggregates:\n"
      "  s: {group_by: [country], measure: {sum: follower_count}}\n"
      "  lo: {group_by: [country], measure: {min: follower_count}}\n"
      "  hi: {group_by: [country], measure: {max: follower_count}}\n");
  for (auto fc : {std::optional<int64_t>(5), std::optional<int64_t>(), std::optional<int64_t>(-3),
                  std::optional<int64_t>(40)})
    update(*a, {.ind = 1, .follower_count = fc, .country = "FR"});
  update(*a, {.ind = 2, .follower_count = std::nullopt, .country = "DE"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "s"), (Rows{"DE|null", "FR|42"}));
  EXPECT_EQ(rows(*a, "lo"), (Rows{"DE|null", "FR|-3"}));
  EXPECT_EQ(rows(*a, "hi"), (Rows{"DE|null", "FR|40"}));
}

TEST_F(AggregatesTest, MedianIsTheSmallestValueWithHalfTheValuesAtOrBelowIt) {
  auto a = build("aggregates:\n  m: {group_by: [country], measure: {median: follower_count}}\n");
  auto add = [&](const std::string& c, std::vector<std::optional<int64_t>> vs) {
    for (auto v : vs) update(*a, {.ind = 1, .follower_count = v, .country = c});
  };
  add("odd", {5, 1, 3});                                   // 1 3 5 -> 3
  add("even", {4, 1, 3, 2});                               // 1 2 3 4 -> 2 (lower middle)
  add("nulls", {std::nullopt, 10, std::nullopt, 20, 30});  // nulls ignored: 10 20 30 -> 20
  add("ties", {7, 1, 7, 7});                               // 1 7 7 7 -> 7
  add("empty", {std::nullopt});                            // no values -> null
  add("neg", {-5, -10, 3, 0});                             // -10 -5 0 3 -> -5
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "m"), (Rows{"empty|null", "even|2", "neg|-5", "nulls|20", "odd|3", "ties|7"}));
  // Incremental across epochs and reopen: the histogram is kept exactly.
  auto again =
      build("aggregates:\n  m: {group_by: [country], measure: {median: follower_count}}\n");
  for (int64_t v : {100, 100}) update(*again, {.ind = 1, .follower_count = v, .country = "odd"});
  commit(*store_, *again);
  EXPECT_EQ(rows(*again, "m")[4], "odd|5") << "1 3 5 100 100 -> 5";
}

// A median of a long column collects raw values and folds them into the histogram past
// GroupState::kFoldAt values and at the flush: both parts must count, each value once.
TEST_F(AggregatesTest, MedianCountsValuesFoldedMidEpochAndAtTheFlush) {
  auto a = build("aggregates:\n  m: {group_by: [country], measure: {median: follower_count}}\n");
  const int64_t n = static_cast<int64_t>(GroupState::kFoldAt) + 4465;  // 70,001 values
  for (int64_t i = 0; i < n; ++i)
    update(*a, {.ind = 1, .follower_count = i == n - 1 ? 999 : i % 1000, .country = "FR"});
  update(*a, {.ind = 2, .follower_count = 7, .country = "DE"});
  commit(*store_, *a);
  // 0..999 seventy times and one more 999: 35,000 values <= 499, 35,070 <= 500.
  EXPECT_EQ(rows(*a, "m"), (Rows{"DE|7", "FR|500"}));
  for (int64_t v : {2000, 2000}) update(*a, {.ind = 3, .follower_count = v, .country = "DE"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "m")[0], "DE|2000") << "7 2000 2000 -> 2000";
}

// State written before histograms were packed: one merged counter per (group, value). A
// median sums those with the packed histograms written since.
TEST_F(AggregatesTest, MedianAlsoCountsHistogramsStoredOneCounterPerValue) {
  auto a = build("aggregates:\n  m: {group_by: [country], measure: {median: follower_count}}\n");
  for (int64_t v : {1, 2}) update(*a, {.ind = 1, .follower_count = v, .country = "FR"});
  commit(*store_, *a);
  // The old layout: "h/m\0" + group key + encoded value -> int64 counter. Three 9s, so
  // the median moves from 1 (values 1 2) to 9 (values 1 2 9 9 9) only if they are read.
  StateStore::WriteBatch b;
  std::string key = hist_prefix("m");
  encode_value(key, core::Value::of_string("FR"));
  encode_value(key, core::Value::of_long(9));
  b.add_i64(key, 3);
  ASSERT_TRUE(store_->write(b, true).is_ok());
  // The group's counts, as they stand with the three 9s.
  auto again =
      build("aggregates:\n  m: {group_by: [country], measure: {median: follower_count}}\n");
  StateStore::WriteBatch g;
  GroupState fr;
  fr.count = fr.non_null = 5;
  std::string gk = agg_prefix("m");
  encode_value(gk, core::Value::of_string("FR"));
  g.put(gk, encode_group(fr));
  ASSERT_TRUE(store_->write(g, true).is_ok());
  std::vector<core::Row> out;
  const AggregateSpec* spec = again->find("m");
  ASSERT_NE(spec, nullptr);
  core::Status st = again->read_rows(*spec, *store_->snapshot(), out);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  bool seen = false;
  for (const auto& r : out)
    if (r[0].type == core::Type::kString && r[0].s == "FR") {
      seen = true;
      EXPECT_EQ(r[1].i, 9) << "1 2 9 9 9 -> 9";
    }
  EXPECT_TRUE(seen);
}

TEST_F(AggregatesTest, ArgmaxKeepsTheLargestRowWithTiesToTheSmallestKeptColumns) {
  auto a = build(
      "aggregates:\n"
      "  top: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}}\n");
  update(*a, {.ind = 1, .poster_name = "alice", .follower_count = 100, .country = "US"});
  update(*a, {.ind = 2, .poster_name = "bob", .follower_count = 200, .country = "US"});
  update(*a, {.ind = 3, .poster_name = "aaron", .follower_count = 200, .country = "US"});
  update(*a, {.ind = 4, .poster_name = "carl", .follower_count = 200, .country = "US"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "top"), (Rows{"US|200|aaron"}));
}

// SPEC section 4: a post without poster_name or follower_count is no candidate.
TEST_F(AggregatesTest, ArgmaxSkipsRowsWithANullValueOrKeptColumnByDefault) {
  auto a = build(
      "aggregates:\n"
      "  top: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}}\n");
  update(*a, {.ind = 1, .poster_name = std::nullopt, .follower_count = 900, .country = "IT"});
  update(*a, {.ind = 2, .poster_name = "b", .follower_count = 9, .country = "IT"});
  update(*a, {.ind = 3, .poster_name = std::nullopt, .follower_count = 9, .country = "IT"});
  update(*a, {.ind = 4, .poster_name = "zed", .follower_count = std::nullopt, .country = "FR"});
  update(*a, {.ind = 5, .poster_name = "x", .follower_count = std::nullopt, .country = "DE"});
  update(*a, {.ind = 6, .poster_name = "y", .follower_count = 0, .country = "DE"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "top"), (Rows{"DE|0|y", "FR|null|null", "IT|9|b"}))
      << "a group without candidates has a null value (views leave it out)";
  // The winner survives a reload: the next candidate is compared with it.
  auto reopened = build(
      "aggregates:\n"
      "  top: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}}\n");
  update(*reopened, {.ind = 7, .poster_name = "a", .follower_count = 8, .country = "IT"});
  update(*reopened, {.ind = 8, .poster_name = "w", .follower_count = 1, .country = "FR"});
  commit(*store_, *reopened);
  EXPECT_EQ(rows(*reopened, "top"), (Rows{"DE|0|y", "FR|1|w", "IT|9|b"}));
}

TEST_F(AggregatesTest, ArgmaxWithoutSkipNullsRanksNullLowestAndKeepsNullColumns) {
  auto a = build(
      "aggregates:\n"
      "  top: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name], "
      "skip_nulls: false}}\n");
  update(*a, {.ind = 1, .poster_name = "alice", .follower_count = 100, .country = "US"});
  update(*a, {.ind = 2, .poster_name = "bob", .follower_count = 200, .country = "US"});
  update(*a, {.ind = 3, .poster_name = "aaron", .follower_count = 200, .country = "US"});
  update(*a, {.ind = 4, .poster_name = "carl", .follower_count = 200, .country = "US"});
  update(*a, {.ind = 5, .poster_name = "zed", .follower_count = std::nullopt, .country = "FR"});
  update(*a, {.ind = 6, .poster_name = "amy", .follower_count = std::nullopt, .country = "FR"});
  update(*a, {.ind = 7, .poster_name = "x", .follower_count = std::nullopt, .country = "DE"});
  update(*a, {.ind = 8, .poster_name = "y", .follower_count = 0, .country = "DE"});
  update(*a, {.ind = 9, .poster_name = std::nullopt, .follower_count = 9, .country = "IT"});
  update(*a, {.ind = 10, .poster_name = "b", .follower_count = 9, .country = "IT"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "top"), (Rows{"DE|0|y", "FR|null|amy", "IT|9|null", "US|200|aaron"}));
}

TEST_F(AggregatesTest, EachGroupIsWrittenOncePerEpoch) {
  auto a = build("aggregates:\n  c: {group_by: [category], measure: count}\n");
  for (int i = 0; i < 1000; ++i) update(*a, {.ind = i, .category = i % 2 ? "a" : "b"});
  StateStore::WriteBatch b;
  a->flush(b);
  EXPECT_EQ(b.count(), 2u);
  ASSERT_TRUE(store_->write(b).is_ok());
  StateStore::WriteBatch empty;
  a->flush(empty);
  EXPECT_EQ(empty.count(), 0u) << "an unchanged group is not rewritten";
}

TEST_F(AggregatesTest, TumblingWindowsCloseAtTheWatermarkAndSkipLateRows) {
  const std::string yaml =
      "aggregates:\n"
      "  by_hour:\n"
      "    group_by: [category]\n"
      "    measure: count\n"
      "    window: {tumbling_ms: 3600000}\n"
      "    table: category_count_by_hour\n"
      "  total: {group_by: [category], measure: count}\n";
  auto a = build(yaml);
  auto tables = a->window_tables();
  ASSERT_EQ(tables.count("category_count_by_hour"), 1u);
  EXPECT_EQ(tables["category_count_by_hour"].to_string(),
            "window_start:timestamp, window_end:timestamp, category:string, count:long");
  update(*a, {.ind = 1, .category = "art", .timestamp = "2020-01-01 00:10:00"});
  update(*a, {.ind = 2, .category = "art", .timestamp = "2020-01-01 00:59:59"});
  update(*a, {.ind = 3, .category = "art", .timestamp = "2020-01-01 01:00:00"});
  update(*a, {.ind = 4, .category = "art", .timestamp = "2020-01-01 00:30:00"}, /*late=*/true);
  update(*a, {.ind = 5, .category = "art", .timestamp = std::nullopt});
  std::map<std::string, std::vector<core::Row>> out;
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 00:59:59"), false, {}, out).is_ok());
  EXPECT_TRUE(out.empty()) << "a window closes only when the watermark reaches its end";
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 01:00:00"), false, {}, out).is_ok());
  ASSERT_EQ(out["category_count_by_hour"].size(), 1u);
  const core::Row& r = out["category_count_by_hour"][0];
  EXPECT_EQ(r[0].to_string(), "2020-01-01T00:00:00");
  EXPECT_EQ(r[1].to_string(), "2020-01-01T01:00:00");
  EXPECT_EQ(r[3].i, 2);
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "total"), (Rows{"art|5"}))
      << "late rows and rows without event time count globally";
  EXPECT_EQ(rows(*a, "by_hour"), (Rows{"2020-01-01T00:00:00|2020-01-01T01:00:00|art|2",
                                       "2020-01-01T01:00:00|2020-01-01T02:00:00|art|1"}))
      << "closed and open windows are both listed";
  // A closed window is final: it left memory, later rows for it are ignored, it is not
  // emitted again, and it survives reopen without coming back into memory.
  EXPECT_EQ(a->groups_in_memory(), 2u);
  update(*a, {.ind = 6, .category = "art", .timestamp = "2020-01-01 00:20:00"});
  out.clear();
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 01:30:00"), false, {}, out).is_ok());
  EXPECT_TRUE(out.empty());
  commit(*store_, *a);
  auto reopened = build(yaml);
  EXPECT_EQ(reopened->groups_in_memory(), 2u);
  ASSERT_TRUE(reopened->close_windows(0, /*final=*/true, {}, out).is_ok());
  ASSERT_EQ(out["category_count_by_hour"].size(), 1u) << "final closes the open window only";
  EXPECT_EQ(out["category_count_by_hour"][0][0].to_string(), "2020-01-01T01:00:00");
}

TEST_F(AggregatesTest, AWindowHoldingAWaitingPostStaysOpenPastTheWatermark) {
  const std::string yaml =
      "aggregates:\n"
      "  by_hour: {group_by: [category], measure: count, window: {tumbling_ms: 3600000}, table: "
      "t}\n";
  auto a = build(yaml);
  update(*a, {.ind = 1, .category = "art", .timestamp = "2020-01-01 00:10:00"});
  update(*a, {.ind = 2, .category = "art", .timestamp = "2020-01-01 01:10:00"});
  update(*a, {.ind = 3, .category = "art", .timestamp = "2020-01-01 02:10:00"});
  // Post 4 (00:50) waits in the join for its other parts.
  const int64_t waiting = ts("2020-01-01 00:50:00");
  const state::Aggregates::HeldQuery held = [&](int64_t s, int64_t e) {
    return waiting >= s && waiting < e;
  };
  std::map<std::string, std::vector<core::Row>> out;
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 02:00:00"), false, held, out).is_ok());
  ASSERT_EQ(out["t"].size(), 1u) << "the 01:00 window closes; the held 00:00 one does not";
  EXPECT_EQ(out["t"][0][0].to_string(), "2020-01-01T01:00:00");
  commit(*store_, *a);
  // Its parts arrive: the post counts, then the window closes with it.
  update(*a, {.ind = 4, .category = "art", .timestamp = "2020-01-01 00:50:00"});
  out.clear();
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 02:00:00"), false, {}, out).is_ok());
  ASSERT_EQ(out["t"].size(), 1u);
  EXPECT_EQ(out["t"][0][0].to_string(), "2020-01-01T00:00:00");
  EXPECT_EQ(out["t"][0][3].i, 2);
  EXPECT_EQ(a->skipped_closed(), 0);
  // A final close ignores what is held.
  out.clear();
  ASSERT_TRUE(a->close_windows(
                   0, true, [](int64_t, int64_t) { return true; }, out)
                  .is_ok());
  ASSERT_EQ(out["t"].size(), 1u);
  EXPECT_EQ(out["t"][0][0].to_string(), "2020-01-01T02:00:00");
}

TEST_F(AggregatesTest, SlidingWindowsCountARowInEveryWindowCoveringIt) {
  auto a = build(
      "aggregates:\n"
      "  w: {group_by: [category], measure: count, window: {size_ms: 7200000, slide_ms: "
      "3600000}}\n");
  update(*a, {.ind = 1, .category = "art", .timestamp = "2020-01-01 01:30:00"});
  update(*a, {.ind = 2, .category = "art", .timestamp = "2020-01-01 02:00:00"});
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "w"), (Rows{"2020-01-01T00:00:00|2020-01-01T02:00:00|art|1",
                                 "2020-01-01T01:00:00|2020-01-01T03:00:00|art|2",
                                 "2020-01-01T02:00:00|2020-01-01T04:00:00|art|1"}));
  std::map<std::string, std::vector<core::Row>> out;
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 03:00:00"), false, {}, out).is_ok());
  EXPECT_TRUE(out.empty()) << "no table configured: nothing is emitted";
  commit(*store_, *a);
  EXPECT_EQ(a->groups_in_memory(), 1u);
}

TEST_F(AggregatesTest, WindowedMedianCombinesCommittedAndPendingValuesWhenClosing) {
  auto a = build(
      "aggregates:\n"
      "  m: {group_by: [category], measure: {median: follower_count}, window: {tumbling_ms: "
      "3600000}, table: t}\n");
  update(*a,
         {.ind = 1, .category = "art", .follower_count = 10, .timestamp = "2020-01-01 00:01:00"});
  update(*a,
         {.ind = 2, .category = "art", .follower_count = 40, .timestamp = "2020-01-01 00:02:00"});
  commit(*store_, *a);
  update(*a,
         {.ind = 3, .category = "art", .follower_count = 30, .timestamp = "2020-01-01 00:03:00"});
  update(*a,
         {.ind = 4, .category = "art", .follower_count = 20, .timestamp = "2020-01-01 00:04:00"});
  update(*a,
         {.ind = 5, .category = "art", .follower_count = 50, .timestamp = "2020-01-01 00:05:00"});
  std::map<std::string, std::vector<core::Row>> out;
  ASSERT_TRUE(a->close_windows(ts("2020-01-01 01:00:00"), false, {}, out).is_ok());
  ASSERT_EQ(out["t"].size(), 1u);
  EXPECT_EQ(out["t"][0][3].to_string(), "30") << "10 20 30 40 50 -> 30";
  commit(*store_, *a);
  EXPECT_EQ(rows(*a, "m"), (Rows{"2020-01-01T00:00:00|2020-01-01T01:00:00|art|30"}));
}

TEST_F(AggregatesTest, ConfigErrorsNameFileLineColumnAndKey) {
  struct Case {
    std::string yaml, expect;
  };
  std::vector<Case> cases = {
      {"aggregates:\n  a: {group_by: [country], measure: count, colour: red}\n", "aggs.yaml:2:"},
      {"aggregates:\n  a: {group_by: [country], measure: count, colour: red}\n",
       "unknown key 'colour'"},
      {"aggregates:\n  a: {group_by: [nope], measure: count}\n", "unknown column 'nope'"},
      {"aggregates:\n  a: {group_by: [country], measure: avg}\n", "unknown measure 'avg'"},
      {"aggregates:\n  a: {group_by: [country], measure: {median: category}}\n", "not numeric"},
      {"aggregates:\n  a: {group_by: [country], measure: {median: follower_count, keep: [x]}}\n",
       "unknown key 'keep'"},
      {"aggregates:\n  a: {group_by: [country], measure: {sum: follower_count, max: age}}\n",
       "exactly one"},
      {"aggregates:\n  a: {group_by: [country], measure: count, window: {tumbling_ms: 0}}\n",
       "a window is"},
      {"aggregates:\n  a: {group_by: [country], measure: count, window: {tumbling_ms: 10, every: "
       "1}}\n",
       "unknown key 'every'"},
      {"aggregates:\n  a: {group_by: [country], measure: count, table: t}\n", "only windowed"},
      {"aggregates:\n  a: {group_by: [country], measure: {argmax: follower_count, keep: "
       "[country]}}\n",
       "appears twice"},
      {"aggregates:\n  a: {measure: count}\n", "group_by"},
  };
  for (const auto& c : cases) {
    core::Status st = build_error(c.yaml);
    EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << c.yaml << " -> " << st.message();
    EXPECT_NE(st.message().find("aggs.yaml:"), std::string::npos) << st.message();
  }
  core::Status no_time = build_error(
      "aggregates:\n  a: {group_by: [country], measure: count, window: {tumbling_ms: 5}}\n", "");
  EXPECT_NE(no_time.message().find("aggs.yaml:2:"), std::string::npos) << no_time.message();
  EXPECT_NE(no_time.message().find("event_time"), std::string::npos) << no_time.message();
}

}  // namespace
}  // namespace pinstream::state
