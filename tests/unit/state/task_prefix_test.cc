// Per-task state in one store: each task's dedup claims, join parts and aggregate groups under
// its own key prefix (task 0: the unprefixed keys of every state written before tasks).
#include "state/task_prefix.h"

// Posts are written with designated initializers naming only the fields a test needs.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include "state/codec.h"
#include "state/dedup.h"
#include "state/join.h"
#include "state/task_aggregates.h"
#include "state/task_dedups.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::state {
namespace {
using core::Row;
using core::Schema;
using core::Type;
using core::Value;
using pinstream::testing::TempDir;
using namespace pinstream::state::test;  // NOLINT

std::vector<std::string> keys(StateStore& store, std::string_view prefix = "") {
  std::vector<std::string> out;
  EXPECT_TRUE(store.live()
                  .scan(prefix,
                        [&](std::string_view k, std::string_view) {
                          out.emplace_back(k);
                          return true;
                        })
                  .is_ok());
  return out;
}

TEST(TaskPrefix, IsEmptyForTaskZeroAndDecimalThenSlashOtherwise) {
  EXPECT_EQ(task_prefix(0), "");
  EXPECT_EQ(task_prefix(1), "t1/");
  EXPECT_EQ(task_prefix(12), "t12/");
  EXPECT_EQ(task_of_key("t12/a/x"), 12);
  EXPECT_EQ(task_of_key("t1/"), 1);
  EXPECT_FALSE(task_of_key("a/t1/").has_value());
  EXPECT_FALSE(task_of_key("t/x").has_value());
  EXPECT_FALSE(task_of_key("tx/").has_value());
  EXPECT_FALSE(task_of_key("t0/a").has_value()) << "task 0 has no prefix";
}

bool claim(Dedup& d, uint32_t stream, int64_t key) {
  auto r = d.claim(stream, key);
  EXPECT_TRUE(r.has_value());
  return r.has_value() && *r;
}

TEST(TaskPrefix, TwoTasksDedupClaimsDoNotSeeEachOther) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  {
    Dedup t1(*store, Dedup::Options(), task_prefix(1)),
        t2(*store, Dedup::Options(), task_prefix(2));
    EXPECT_TRUE(claim(t1, 0, 7));
    EXPECT_TRUE(claim(t2, 0, 7)) << "another task's claim";
    StateStore::WriteBatch b;
    t1.flush(b);
    t2.flush(b);
    ASSERT_TRUE(store->write(b).is_ok());
  }
  EXPECT_EQ(keys(*store, "t1/").size(), 1u);
  EXPECT_EQ(keys(*store, "t2/").size(), 1u);
  EXPECT_TRUE(keys(*store, "D/").empty()) << "task 0 wrote nothing";
  Dedup t0(*store), t1(*store, Dedup::Options(), task_prefix(1));
  EXPECT_TRUE(claim(t0, 0, 7)) << "task 0 never claimed 7";
  EXPECT_FALSE(claim(t1, 0, 7)) << "task 1's committed claim";
  // Past the cache, claims are single keys looked up in RocksDB: under the prefix too.
  Dedup::Options tiny;
  tiny.max_cached_keys = 0;
  Dedup s3(*store, tiny, task_prefix(3));
  EXPECT_TRUE(claim(s3, 0, 9));
  StateStore::WriteBatch b;
  s3.flush(b);
  ASSERT_TRUE(store->write(b).is_ok());
  EXPECT_EQ(keys(*store, "t3/d/").size(), 1u);
  Dedup s3again(*store, tiny, task_prefix(3)), s4(*store, tiny, task_prefix(4));
  EXPECT_FALSE(claim(s3again, 0, 9));
  EXPECT_TRUE(claim(s4, 0, 9));
}

// The tasks of one process share one bound on the claims they cache (TaskDedups).
TEST(TaskPrefix, TasksDedupsShareOneCacheBound) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Dedup::Options o;
  o.max_cached_keys = 4;
  {
    TaskDedups tasks(*store, o);
    for (int64_t k : {1, 2, 3}) EXPECT_TRUE(claim(tasks.task(1), 0, k));
    for (int64_t k : {1, 2, 3}) EXPECT_TRUE(claim(tasks.task(2), 0, k));
    EXPECT_FALSE(claim(tasks.task(2), 0, 3));
    StateStore::WriteBatch b;
    tasks.flush(b);
    ASSERT_TRUE(store->write(b).is_ok());
    EXPECT_EQ(tasks.cached_keys(), 4u) << "task 1's three, then one of task 2's";
    EXPECT_TRUE(tasks.spilled()) << "past the shared bound: task 2's claims are single keys";
    EXPECT_FALSE(tasks.task(1).spilled());
    EXPECT_EQ(keys(*store, "t2/d/").size(), 3u);
    EXPECT_EQ(keys(*store, "t1/D/").size(), 1u);
  }
  TaskDedups again(*store, o);
  for (int64_t k : {1, 2, 3}) EXPECT_FALSE(claim(again.task(2), 0, k));
  for (int64_t k : {1, 2, 3}) EXPECT_FALSE(claim(again.task(1), 0, k));
  EXPECT_TRUE(claim(again.task(0), 0, 1)) << "task 0 claimed nothing";
}

TEST(TaskPrefix, TaskZeroReadsDedupClaimsAndGroupsWrittenWithoutPrefix) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  // As a state written before tasks had state of their own holds them: a packed chunk of
  // claims of stream 1 under "D/", a single claim under "d/", a count group under "a/".
  StateStore::WriteBatch b;
  std::string chunk = "D/", packed, single = "d/";
  put_u64(chunk, 1);
  put_u64(chunk, 0);
  put_i64(packed, 41);
  put_i64(packed, 42);
  b.put(chunk, packed);
  put_u64(single, 1);
  put_i64(single, 43);
  b.put(single, "");
  std::string group = "a/by_country";
  group += '\0';
  encode_value(group, Value::of_string("FR"));
  GroupState g;
  g.count = 5;
  b.put(group, encode_group(g));
  ASSERT_TRUE(store->write(b).is_ok());

  Dedup d(*store), other(*store, Dedup::Options(), task_prefix(1));
  EXPECT_FALSE(claim(d, 1, 41));
  EXPECT_FALSE(claim(d, 1, 43));
  EXPECT_TRUE(claim(d, 1, 44));
  EXPECT_TRUE(claim(other, 1, 41)) << "task 1 does not read task 0's claims";
  core::ConfigNode root =
      parse("aggregates:\n  by_country: {group_by: [country], measure: count}\n");
  auto a =
      std::move(Aggregates::build(*store, *root.find("aggregates"), posts_schema(), "")).value();
  std::vector<Row> rows;
  ASSERT_TRUE(
      TaskAggregates::read_rows(*a, *a->find("by_country"), store->live(), {0}, rows).is_ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], Value::of_long(5));
  rows.clear();
  ASSERT_TRUE(
      TaskAggregates::read_rows(*a, *a->find("by_country"), store->live(), {0, 3}, rows).is_ok());
  ASSERT_EQ(rows.size(), 1u) << "merged with an empty task 3";
  EXPECT_EQ(rows[0][1], Value::of_long(5));
}

std::vector<Schema> join_schemas() {
  return {Schema({{"ind", Type::kLong, false}, {"category", Type::kString, true}}),
          Schema({{"ind", Type::kLong, false}, {"age", Type::kLong, true}})};
}

std::unique_ptr<Join> make_join(StateStore& store, int32_t task) {
  auto j = Join::build(store, {"pin", "user"}, join_schemas(), "ind", 1LL << 40, task_prefix(task));
  EXPECT_TRUE(j.has_value()) << j.error().to_string();
  return std::move(j).value();
}

TEST(TaskPrefix, TwoTasksJoinPartsDoNotMeetAndReloadApart) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  Row out;
  PartFlags flags;
  {
    auto t0 = make_join(*store, 0), t5 = make_join(*store, 5);
    ASSERT_FALSE(*t0->add(0, 1, {Value::of_long(1), Value::of_string("a")}, PartFlags::kNone, 0,
                          out, flags, int64_t{100}));
    ASSERT_FALSE(
        *t5->add(1, 1, {Value::of_long(1), Value::of_long(30)}, PartFlags::kNone, 0, out, flags))
        << "the other part of key 1 came to another task";
    StateStore::WriteBatch b;
    t0->flush(b);
    t5->flush(b);
    ASSERT_TRUE(store->write(b).is_ok());
  }
  EXPECT_EQ(keys(*store, "j/").size(), 1u) << "task 0: the unprefixed keys";
  EXPECT_EQ(keys(*store, "t5/j/").size(), 1u);
  EXPECT_EQ(keys(*store, "t5/jc/").size(), 2u);
  auto t0 = make_join(*store, 0), t5 = make_join(*store, 5);
  EXPECT_EQ(t0->waiting(), 1u);
  EXPECT_EQ(t5->waiting(), 1u);
  EXPECT_TRUE(t0->holds_between(100, 101));
  EXPECT_FALSE(t5->holds_between(100, 101));
  ASSERT_TRUE(
      *t0->add(1, 1, {Value::of_long(1), Value::of_long(31)}, PartFlags::kNone, 0, out, flags));
  EXPECT_EQ(out[2], Value::of_long(31)) << "task 0's own parts meet";
}

TEST(TaskPrefix, TwoTasksAggregatesKeepTheirOwnGroups) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  core::ConfigNode root = parse(
      "aggregates:\n  by_country: {group_by: [country], measure: count}\n"
      "  hourly: {group_by: [country], measure: {median: follower_count}, window: "
      "{tumbling_ms: 3600000}, table: t}\n");
  auto t0 =
      std::move(Aggregates::build(*store, *root.find("aggregates"), posts_schema(), "timestamp"))
          .value();
  TaskAggregates tasks(*store, *root.find("aggregates"), posts_schema(), "timestamp", t0.get());
  Aggregates* t2 = *tasks.task(2);
  ASSERT_TRUE(t0->update(row_of({.ind = 1,
                                 .follower_count = 3,
                                 .country = "FR",
                                 .timestamp = "2020-01-01 00:10:00"}),
                         false)
                  .is_ok());
  ASSERT_TRUE(t2->update(row_of({.ind = 2,
                                 .follower_count = 5,
                                 .country = "FR",
                                 .timestamp = "2020-01-01 00:20:00"}),
                         false)
                  .is_ok());
  StateStore::WriteBatch b;
  tasks.flush(b);
  ASSERT_TRUE(store->write(b).is_ok());
  EXPECT_FALSE(keys(*store, "t2/a/").empty());
  EXPECT_FALSE(keys(*store, "t2/h/").empty());
  std::vector<Row> rows;
  ASSERT_TRUE(t0->read_rows(*t0->find("by_country"), store->live(), rows).is_ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], Value::of_long(1)) << "task 0 alone";
  rows.clear();
  ASSERT_TRUE(
      TaskAggregates::read_rows(*t0, *t0->find("by_country"), store->live(), {0, 2}, rows).is_ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], Value::of_long(2)) << "both tasks, merged";
  std::map<std::string, std::vector<Row>> out;
  ASSERT_TRUE(tasks.close_windows(ts("2020-01-01 01:00:00"), false, {}, out).is_ok());
  ASSERT_EQ(out["t"].size(), 1u) << "one row for the window, merged";
  EXPECT_EQ(out["t"][0][3], Value::of_long(3)) << "the median of 3 and 5 (the lower)";
  EXPECT_EQ(tasks.tasks(), (std::vector<int32_t>{0, 2}));
}

}  // namespace
}  // namespace pinstream::state
