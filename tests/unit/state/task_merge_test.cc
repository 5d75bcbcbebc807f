// The merge of the tasks' partials (task_aggregates.h) against one instance fed every row:
// random rows over every measure, windows too, split over random tasks at random, with
// epochs (committed histograms plus pending values), held windows and restarts. The closed
// windows' rows and the views' rows must be the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "state/task_aggregates.h"
#include "state/task_prefix.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::state {
namespace {
using core::Row;
using pinstream::testing::TempDir;
using namespace pinstream::state::test;  // NOLINT

constexpr const char* kAggregates =
    "aggregates:\n"
    "  cnt: {group_by: [country], measure: count}\n"
    "  total: {group_by: [country], measure: {sum: follower_count}}\n"
    "  lo: {group_by: [country, category], measure: {min: follower_count}}\n"
    "  hi: {group_by: [country], measure: {max: poster_name}}\n"
    "  top: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}}\n"
    "  topn: {group_by: [category], measure: {argmax: follower_count, keep: [poster_name, age], "
    "skip_nulls: false}}\n"
    "  med: {group_by: [country], measure: {median: follower_count}}\n"
    "  wmed: {group_by: [category], measure: {median: follower_count}, window: {tumbling_ms: "
    "3600000}, table: wmed}\n"
    "  wtop: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}, "
    "window: {size_ms: 7200000, slide_ms: 3600000}, table: wtop}\n"
    "  wcnt: {group_by: [country], measure: count, window: {tumbling_ms: 1800000}, table: wcnt}\n"
    "  wsum: {group_by: [age_group], measure: {sum: age}, window: {tumbling_ms: 3600000}, "
    "table: wsum}\n";

std::string text(const Row& r) {
  std::string s;
  for (size_t i = 0; i < r.size(); ++i) s += (i ? "|" : "") + r[i].to_string();
  return s;
}

std::vector<std::string> sorted(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(text(r));
  std::sort(out.begin(), out.end());
  return out;
}

Post random_post(std::mt19937_64& rng, int64_t ind) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Post p;
  p.ind = ind;
  const char* categories[] = {"art", "tech", "food"};
  const char* countries[] = {"FR", "DE", "US"};
  if (pick(8)) p.category = categories[pick(3)];
  if (pick(8)) p.country = countries[pick(3)];
  if (pick(5)) p.poster_name = "p" + std::to_string(pick(4));
  if (pick(5)) p.follower_count = pick(12) - 2;
  if (pick(6)) p.age = 18 + pick(30);
  if (pick(6)) p.age_group = pick(2) ? "18-24" : "25-35";
  if (pick(10)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2020-01-01 %02d:%02d:00", pick(6), pick(60));
    p.timestamp = buf;
  }
  return p;
}

// One instance fed every row, and the tasks' instances fed their share, side by side.
struct Side {
  TempDir dir;
  std::unique_ptr<StateStore> store;
  core::ConfigNode root = parse(kAggregates);
  std::unique_ptr<Aggregates> task0;
  std::unique_ptr<TaskAggregates> tasks;
  std::vector<int32_t> known;  // tasks built, in the order they appeared

  void open() {
    tasks.reset();
    task0.reset();
    store.reset();
    store = std::move(StateStore::open((dir / "db").string())).value();
    task0 =
        std::move(Aggregates::build(*store, *root.find("aggregates"), posts_schema(), "timestamp"))
            .value();
    tasks = std::make_unique<TaskAggregates>(*store, *root.find("aggregates"), posts_schema(),
                                             "timestamp", task0.get());
    for (int32_t t : known) ASSERT_TRUE(tasks->task(t).has_value());
  }
  Aggregates& task(int32_t t) {
    if (std::find(known.begin(), known.end(), t) == known.end()) known.push_back(t);
    auto a = tasks->task(t);
    EXPECT_TRUE(a.has_value());
    return **a;
  }
  std::map<std::string, std::vector<std::string>> close(int64_t watermark, bool final,
                                                        const Aggregates::HeldQuery& held) {
    std::map<std::string, std::vector<Row>> out;
    EXPECT_TRUE(tasks->close_windows(watermark, final, held, out).is_ok());
    std::map<std::string, std::vector<std::string>> text_out;
    for (const auto& [table, rows] : out) text_out[table] = sorted(rows);
    return text_out;
  }
  void commit() {
    StateStore::WriteBatch b;
    tasks->flush(b);
    ASSERT_TRUE(store->write(b).is_ok());
  }
  std::vector<std::string> rows(const std::string& name) {
    std::vector<int32_t> all = known;
    all.push_back(0);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::vector<Row> out;
    EXPECT_TRUE(
        TaskAggregates::read_rows(*task0, *task0->find(name), store->live(), all, out).is_ok());
    return sorted(out);
  }
};

void run_seed(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Side one, many;
  one.open();
  many.open();
  const int n_tasks = 1 + static_cast<int>(rng() % 6);
  std::vector<int32_t> ids;
  for (int i = 0; i < n_tasks; ++i) ids.push_back(static_cast<int32_t>(rng() % 8));
  int64_t ind = 0, watermark = ts("2020-01-01 00:00:00");
  for (int epoch = 0; epoch < 12; ++epoch) {
    const int rows = static_cast<int>(rng() % 60);
    for (int i = 0; i < rows; ++i) {
      Row r = row_of(random_post(rng, ++ind));
      const bool late = rng() % 10 == 0;
      ASSERT_TRUE(one.task(0).update(r, late).is_ok());
      ASSERT_TRUE(many.task(ids[rng() % ids.size()]).update(r, late).is_ok());
    }
    watermark += static_cast<int64_t>(rng() % 3) * 1'800'000'000;
    const int64_t held_hour = static_cast<int64_t>(rng() % 6);
    Aggregates::HeldQuery held = [held_hour](int64_t start, int64_t end) {
      const int64_t h = ts("2020-01-01 00:00:00") + held_hour * 3'600'000'000;
      return start <= h && h < end;
    };
    const bool final = epoch == 11;
    ASSERT_EQ(one.close(watermark, final, held), many.close(watermark, final, held))
        << "epoch " << epoch;
    one.commit();
    many.commit();
    EXPECT_EQ(one.tasks->skipped_closed(), many.tasks->skipped_closed());
    if (rng() % 4 == 0) {  // a restart: every task's state loaded back
      one.open();
      many.open();
    }
    for (const char* name :
         {"cnt", "total", "lo", "hi", "top", "topn", "med", "wmed", "wtop", "wcnt", "wsum"})
      ASSERT_EQ(one.rows(name), many.rows(name)) << name << " after epoch " << epoch;
  }
}

// Members of a group close each task's windows apart: a task built after another task closed
// a window (imported from a member whose watermark was behind) keeps its rows of that window
// and closes them itself; one process shares the closed windows among its tasks instead.
TEST(TaskMerge, TasksClosedApartKeepTheirOwnWindowsOpen) {
  for (bool apart : {false, true}) {
    SCOPED_TRACE(apart ? "apart" : "shared");
    Side s;
    s.open();
    if (apart) s.tasks->close_tasks_apart();
    Post p;
    p.ind = 1;
    p.country = "FR";
    p.timestamp = "2020-01-01 00:10:00";
    ASSERT_TRUE(s.task(1).update(row_of(p), false).is_ok());
    std::map<int32_t, std::vector<std::map<std::string, GroupPartial>>> by_task;
    std::vector<std::vector<int64_t>> closed;
    const int64_t past = ts("2020-01-01 01:00:00");
    ASSERT_TRUE(s.tasks->close_task_partials(past, false, nullptr, by_task, closed).is_ok());
    const auto specs = s.task0->specs();
    size_t wcnt = 0;
    while (wcnt < specs.size() && specs[wcnt]->name != "wcnt") ++wcnt;
    ASSERT_LT(wcnt, specs.size());
    ASSERT_EQ(by_task[1].size(), specs.size());
    EXPECT_EQ(by_task[1][wcnt].size(), 1u);
    p.ind = 2;
    ASSERT_TRUE(s.task(2).update(row_of(p), false).is_ok());
    by_task.clear();
    ASSERT_TRUE(s.tasks->close_task_partials(past, false, nullptr, by_task, closed).is_ok());
    if (apart)
      EXPECT_EQ(s.tasks->skipped_closed(), 0);
    else
      EXPECT_GT(s.tasks->skipped_closed(), 0);  // once per windowed aggregate it falls in
    EXPECT_EQ(by_task[2].empty() ? 0u : by_task[2][wcnt].size(), apart ? 1u : 0u);
  }
}

TEST(TaskMerge, TasksPartialsMergeToWhatOneInstanceFedEveryRowHolds) {
  for (uint64_t seed = 1; seed <= 24; ++seed) run_seed(seed);
}

TEST(TaskMerge, ArgmaxMergeRanksAsOneInstance) {
  core::ConfigNode root = parse(
      "aggregates:\n  top: {group_by: [country], measure: {argmax: follower_count, keep: "
      "[poster_name]}}\n");
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto a =
      std::move(Aggregates::build(*store, *root.find("aggregates"), posts_schema(), "")).value();
  const AggregateSpec& spec = *a->find("top");
  GroupPartial none, x, y;
  none.g.count = 2;  // rows, but no candidate (null values)
  x.g.count = y.g.count = 1;
  x.g.non_null = y.g.non_null = 1;
  x.g.acc = y.g.acc = core::Value::of_long(10);
  x.g.kept = {core::Value::of_string("bob")};
  y.g.kept = {core::Value::of_string("alice")};
  merge_group(spec, none, x);
  EXPECT_EQ(none.g.kept[0], core::Value::of_string("bob")) << "the only candidate";
  merge_group(spec, none, y);
  EXPECT_EQ(none.g.kept[0], core::Value::of_string("alice")) << "a tie: the smaller kept column";
  EXPECT_EQ(none.g.count, 4);
  EXPECT_EQ(none.g.non_null, 2);
}

}  // namespace
}  // namespace pinstream::state
