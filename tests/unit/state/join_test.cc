#include "state/join.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "state/codec.h"
#include "tests/support/test_support.h"

namespace pinstream::state {
namespace {
using core::Field;
using core::Row;
using core::Schema;
using core::Type;
using core::Value;
using pinstream::testing::TempDir;

constexpr int64_t kHour = 3600LL * 1000000;

std::vector<Schema> three_schemas() {
  return {Schema({{"ind", Type::kLong, false}, {"category", Type::kString, true}}),
          Schema({{"country", Type::kString, true}, {"ind", Type::kLong, false}}),
          Schema({{"ind", Type::kLong, false}, {"age", Type::kLong, true}})};
}

std::unique_ptr<Join> make_join(StateStore& store, int64_t expire = 24 * kHour) {
  auto j = Join::build(store, {"pin", "geo", "user"}, three_schemas(), "ind", expire);
  EXPECT_TRUE(j.has_value()) << j.error().to_string();
  return std::move(j).value();
}

Row part(uint32_t stream, int64_t key) {
  switch (stream) {
    case 0:
      return {Value::of_long(key), Value::of_string("cat" + std::to_string(key))};
    case 1:
      return {Value::of_string("country" + std::to_string(key)), Value::of_long(key)};
    default:
      return {Value::of_long(key), Value::of_long(20 + key)};
  }
}

void commit(StateStore& store, Join& j) {
  StateStore::WriteBatch b;
  j.flush(b);
  ASSERT_TRUE(store.write(b).is_ok());
}

size_t stored_parts(StateStore& store) {
  size_t n = 0;
  EXPECT_TRUE(store.live()
                  .scan("j/", [&](std::string_view, std::string_view) { return ++n, true; })
                  .is_ok());
  return n;
}

TEST(Join, OutputSchemaIsKeyThenEachStreamsOtherColumnsInStreamOrder) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store);
  EXPECT_EQ(j->output_schema().to_string(), "ind:long, category:string, country:string, age:long");
}

TEST(Join, CompletesInEveryArrivalOrder) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store);
  std::vector<uint32_t> order = {0, 1, 2};
  int64_t key = 100;
  do {
    Row out;
    PartFlags flags = PartFlags::kNone;
    for (size_t i = 0; i < order.size(); ++i) {
      uint32_t s = order[i];
      auto done = j->add(s, key, part(s, key), PartFlags::kNone, 0, out, flags);
      ASSERT_TRUE(done.has_value());
      EXPECT_EQ(*done, i == 2) << "order step " << i;
    }
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].i, key);
    EXPECT_EQ(out[1].s, "cat" + std::to_string(key));
    EXPECT_EQ(out[2].s, "country" + std::to_string(key));
    EXPECT_EQ(out[3].i, 20 + key);
    EXPECT_EQ(flags, PartFlags::kNone);
    ++key;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(j->waiting(), 0u);
  commit(*store, *j);
  EXPECT_EQ(stored_parts(*store), 0u) << "parts joined within one epoch never reach RocksDB";
}

TEST(Join, WaitingPartsSurviveReopenAndAreDeletedWhenJoined) {
  TempDir dir;
  std::string db = (dir / "db").string();
  {
    auto store = std::move(StateStore::open(db)).value();
    auto j = make_join(*store);
    Row out;
    PartFlags flags = PartFlags::kNone;
    EXPECT_FALSE(*j->add(1, 5, part(1, 5), PartFlags::kLate, 10, out, flags));
    EXPECT_FALSE(*j->add(2, 5, part(2, 5), PartFlags::kNone, 11, out, flags));
    EXPECT_FALSE(*j->add(0, 6, part(0, 6), PartFlags::kNone, 12, out, flags));
    commit(*store, *j);
    EXPECT_EQ(stored_parts(*store), 2u);
  }
  auto store = std::move(StateStore::open(db)).value();
  auto j = make_join(*store);
  EXPECT_EQ(j->waiting(), 2u);
  Row out;
  PartFlags flags = PartFlags::kNone;
  ASSERT_TRUE(*j->add(0, 5, part(0, 5), PartFlags::kNone, 20, out, flags));
  EXPECT_EQ(out[2].s, "country5");
  EXPECT_TRUE(has(flags, PartFlags::kLate)) << "the late flag survives a reopen";
  commit(*store, *j);
  EXPECT_EQ(stored_parts(*store), 1u);
  std::string key5 = "j/", key6 = "j/";
  put_i64(key5, 5);
  put_i64(key6, 6);
  EXPECT_FALSE(*store->live().get(key5)) << "a joined key's parts are deleted";
  EXPECT_TRUE(*store->live().get(key6));
}

TEST(Join, ExpireDropsPartsOlderThanTheExpiry) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store, kHour);
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(*j->add(0, 1, part(0, 1), PartFlags::kNone, 0, out, flags));
  commit(*store, *j);
  EXPECT_FALSE(*j->add(0, 2, part(0, 2), PartFlags::kNone, kHour / 2, out, flags));
  EXPECT_EQ(*j->expire(kHour), 0u) << "exactly at the expiry a part still waits";
  EXPECT_EQ(*j->expire(kHour + 1), 1u);
  EXPECT_EQ(j->waiting(), 1u);
  commit(*store, *j);
  EXPECT_EQ(stored_parts(*store), 1u);
  // The expired key starts over: its other parts alone do not complete it.
  EXPECT_FALSE(*j->add(1, 1, part(1, 1), PartFlags::kNone, kHour + 2, out, flags));
  EXPECT_FALSE(*j->add(2, 1, part(2, 1), PartFlags::kNone, kHour + 3, out, flags));
}

TEST(Join, HeldEventTimesLastWhileTheirEntryWaitsAndSurviveARestart) {
  TempDir dir;
  const std::string db = (dir / "db").string();
  using Held = std::map<int64_t, int64_t>;
  {
    auto store = std::move(StateStore::open(db)).value();
    auto j = make_join(*store);
    Row out;
    PartFlags flags = PartFlags::kNone;
    EXPECT_FALSE(*j->add(1, 1, part(1, 1), PartFlags::kNone, 0, out, flags, 500));
    EXPECT_FALSE(*j->add(1, 2, part(1, 2), PartFlags::kNone, 0, out, flags, 500));
    EXPECT_FALSE(*j->add(1, 3, part(1, 3), PartFlags::kNone, 0, out, flags, 700));
    // late: holds nothing
    EXPECT_FALSE(*j->add(1, 4, part(1, 4), PartFlags::kLate, 0, out, flags));
    EXPECT_FALSE(*j->add(0, 5, part(0, 5), PartFlags::kNone, 0, out, flags));
    EXPECT_EQ(j->held(), (Held{{500, 2}, {700, 1}}));
    EXPECT_FALSE(*j->add(0, 1, part(0, 1), PartFlags::kNone, 0, out, flags));
    EXPECT_TRUE(*j->add(2, 1, part(2, 1), PartFlags::kNone, 0, out, flags));
    EXPECT_EQ(j->held(), (Held{{500, 1}, {700, 1}})) << "a completed post releases its time";
    // A part arriving last completes at once and holds nothing.
    EXPECT_FALSE(*j->add(2, 5, part(2, 5), PartFlags::kNone, 0, out, flags));
    EXPECT_TRUE(*j->add(1, 5, part(1, 5), PartFlags::kNone, 0, out, flags, 900));
    EXPECT_EQ(j->held(), (Held{{500, 1}, {700, 1}}));
    commit(*store, *j);
  }
  auto store = std::move(StateStore::open(db)).value();
  auto j = make_join(*store);
  EXPECT_EQ(j->held(), (Held{{500, 1}, {700, 1}}))
      << "held times are rebuilt from the stored parts";
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(*j->add(0, 3, part(0, 3), PartFlags::kNone, 0, out, flags));
  EXPECT_TRUE(*j->add(2, 3, part(2, 3), PartFlags::kNone, 0, out, flags));
  EXPECT_EQ(j->held(), (Held{{500, 1}}));
}

// holds_between answers from a sorted snapshot of the held times: every change of the
// holds (a new hold, a completed post, an expired entry) must show in the next answer.
TEST(Join, HoldsBetweenFollowsEveryChangeOfTheHeldTimes) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store, kHour);
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(j->holds_between(0, 1000)) << "nothing waits";
  EXPECT_FALSE(*j->add(1, 1, part(1, 1), PartFlags::kNone, 0, out, flags, 500));
  EXPECT_FALSE(*j->add(1, 2, part(1, 2), PartFlags::kNone, 10, out, flags, 700));
  EXPECT_TRUE(j->holds_between(500, 501));
  EXPECT_FALSE(j->holds_between(501, 700)) << "end is exclusive, start inclusive";
  EXPECT_TRUE(j->holds_between(700, 701));
  EXPECT_FALSE(j->holds_between(0, 500));
  EXPECT_FALSE(*j->add(1, 3, part(1, 3), PartFlags::kNone, 20, out, flags, 600));  // a new hold
  EXPECT_TRUE(j->holds_between(501, 700));
  EXPECT_FALSE(*j->add(0, 3, part(0, 3), PartFlags::kNone, 30, out, flags));
  // completed: releases 600
  EXPECT_TRUE(*j->add(2, 3, part(2, 3), PartFlags::kNone, 40, out, flags));
  EXPECT_FALSE(j->holds_between(501, 700));
  EXPECT_EQ(*j->expire(kHour + 5, nullptr), 1u);  // key 1 (arrived at 0) expires
  EXPECT_FALSE(j->holds_between(500, 501));
  EXPECT_TRUE(j->holds_between(700, 701));
}

TEST(Join, ExpireReportsWhichPartsCameAndReleasesTheirHeldTime) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store, kHour);
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(*j->add(1, 9, part(1, 9), PartFlags::kNone, 10, out, flags, 1234));
  EXPECT_FALSE(*j->add(0, 9, part(0, 9), PartFlags::kNone, 20, out, flags));
  EXPECT_FALSE(*j->add(2, 4, part(2, 4), PartFlags::kNone, 30, out, flags));
  std::vector<Join::Expired> expired;
  EXPECT_EQ(*j->expire(kHour + 31, &expired), 2u);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].key, 4);
  EXPECT_EQ(expired[0].present, (std::vector<bool>{false, false, true}));
  EXPECT_FALSE(expired[0].hold.has_value());
  EXPECT_EQ(expired[1].key, 9);
  EXPECT_EQ(expired[1].present, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(expired[1].first_arrival, 10);
  EXPECT_EQ(expired[1].hold, std::optional<int64_t>(1234));
  EXPECT_TRUE(j->held().empty());
}

// Entries unchanged for kColdFlushes flushes keep only their key, arrival, flags and held
// time in memory; a part for one reads its rows back: it joins, replaces, holds and expires
// as a warm entry does.
TEST(Join, ColdEntriesAreReadBackAndBehaveAsWarmOnes) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store, kHour);
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(*j->add(1, 7, part(1, 7), PartFlags::kLate, 10, out, flags));
  EXPECT_FALSE(*j->add(2, 7, part(2, 7), PartFlags::kNone, 11, out, flags, 600));
  EXPECT_FALSE(*j->add(0, 8, part(0, 8), PartFlags::kNone, 12, out, flags, 700));
  EXPECT_FALSE(*j->add(2, 9, part(2, 9), PartFlags::kNone, 13, out, flags));
  for (uint64_t i = 0; i < Join::kColdFlushes; ++i) commit(*store, *j);
  EXPECT_EQ(j->cold(), 0u) << "written by the last flush: maybe not committed yet";
  commit(*store, *j);
  EXPECT_EQ(j->cold(), 3u);
  EXPECT_EQ(j->held(), (std::map<int64_t, int64_t>{{600, 1}, {700, 1}}));
  ASSERT_TRUE(*j->add(0, 7, part(0, 7), PartFlags::kNone, 20, out, flags));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].s, "cat7");
  EXPECT_EQ(out[2].s, "country7");
  EXPECT_EQ(out[3].i, 27);
  EXPECT_TRUE(has(flags, PartFlags::kLate)) << "a cold part keeps its flags";
  EXPECT_EQ(j->reloads(), 1u);
  EXPECT_EQ(j->cold(), 2u);
  // Key 8: its cold pin part replaced, then completed with the new one.
  Row newer = part(0, 8);
  newer[1] = Value::of_string("newer");
  EXPECT_FALSE(*j->add(0, 8, newer, PartFlags::kNone, 21, out, flags));
  EXPECT_FALSE(*j->add(1, 8, part(1, 8), PartFlags::kNone, 22, out, flags));
  ASSERT_TRUE(*j->add(2, 8, part(2, 8), PartFlags::kNone, 23, out, flags));
  EXPECT_EQ(out[1].s, "newer");
  EXPECT_EQ(j->held(), (std::map<int64_t, int64_t>{})) << "key 7 and 8 released 600, 700";
  // Key 9 expires cold, reported with the parts it had.
  std::vector<Join::Expired> expired;
  EXPECT_EQ(*j->expire(kHour + 14, &expired), 1u);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].present, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(j->cold(), 0u);
  commit(*store, *j);
  EXPECT_EQ(stored_parts(*store), 0u);
}

// A cold entry whose stored parts are gone (the state changed under the run) is an error,
// never a join with missing columns.
TEST(Join, ColdEntryMissingFromTheStateIsAnError) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto j = make_join(*store);
  Row out;
  PartFlags flags = PartFlags::kNone;
  EXPECT_FALSE(*j->add(0, 3, part(0, 3), PartFlags::kNone, 0, out, flags));
  for (uint64_t i = 0; i <= Join::kColdFlushes; ++i) commit(*store, *j);
  ASSERT_EQ(j->cold(), 1u);
  StateStore::WriteBatch b;
  std::string key = "j/";
  put_i64(key, 3);
  b.del(key);
  ASSERT_TRUE(store->write(b).is_ok());
  auto r = j->add(1, 3, part(1, 3), PartFlags::kNone, 1, out, flags);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().to_string().find("key 3"), std::string::npos) << r.error().to_string();
}

// A column added to a stream (here geo's `region`, before `country`) after its parts were
// stored: they are rebuilt by name, the new column null; a state that did not record the
// columns is refused when the widths differ, never read misaligned.
TEST(Join, PartsStoredBeforeAColumnWasAddedAreRebuiltByName) {
  TempDir dir;
  std::string db = (dir / "db").string();
  {
    auto store = std::move(StateStore::open(db)).value();
    auto j = make_join(*store);
    Row out;
    PartFlags flags = PartFlags::kNone;
    EXPECT_FALSE(*j->add(1, 5, part(1, 5), PartFlags::kNone, 10, out, flags));
    EXPECT_FALSE(*j->add(2, 5, part(2, 5), PartFlags::kNone, 11, out, flags));
    commit(*store, *j);
  }
  auto wider = three_schemas();
  wider[1] = Schema({{"region", Type::kString, true},
                     {"country", Type::kString, true},
                     {"ind", Type::kLong, false}});
  {
    auto store = std::move(StateStore::open(db)).value();
    auto j = Join::build(*store, {"pin", "geo", "user"}, wider, "ind", 24 * kHour);
    ASSERT_TRUE(j.has_value()) << j.error().to_string();
    commit(*store, **j);  // the parts rewritten in the new layout, with the new names
  }
  auto store = std::move(StateStore::open(db)).value();
  auto j = Join::build(*store, {"pin", "geo", "user"}, wider, "ind", 24 * kHour);
  ASSERT_TRUE(j.has_value()) << j.error().to_string();
  Row out;
  PartFlags flags = PartFlags::kNone;
  ASSERT_TRUE(*(*j)->add(0, 5, part(0, 5), PartFlags::kNone, 20, out, flags));
  const Schema& o = (*j)->output_schema();
  EXPECT_TRUE(out[static_cast<size_t>(o.index_of("region"))].is_null());
  EXPECT_EQ(out[static_cast<size_t>(o.index_of("country"))].s, "country5");
  EXPECT_EQ(out[static_cast<size_t>(o.index_of("age"))].i, 25);

  // Parts of a state that recorded no column names, read with another width: refused.
  TempDir old_dir;
  std::string old_db = (old_dir / "db").string();
  {
    auto old_store = std::move(StateStore::open(old_db)).value();
    auto old_join = make_join(*old_store);
    EXPECT_FALSE(*old_join->add(1, 7, part(1, 7), PartFlags::kNone, 10, out, flags));
    commit(*old_store, *old_join);
    StateStore::WriteBatch b;
    b.del("jc/geo");  // as a state written before the names were recorded
    ASSERT_TRUE(old_store->write(b).is_ok());
  }
  auto old_store = std::move(StateStore::open(old_db)).value();
  auto refused = Join::build(*old_store, {"pin", "geo", "user"}, wider, "ind", 24 * kHour);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("parts of stream 'geo' with 2 columns, the "
                                           "configuration gives it 3"),
            std::string::npos)
      << refused.error().message();
}

TEST(Join, ColumnClashIsAnError) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto schemas = three_schemas();
  schemas[2].add({"category", Type::kString, true});
  auto j = Join::build(*store, {"pin", "geo", "user"}, schemas, "ind", kHour);
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(j.error().message().find("'category' of stream 'user'"), std::string::npos)
      << j.error().message();
}

TEST(Join, MissingOrNonLongKeyIsAnError) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  auto schemas = three_schemas();
  schemas[1] = Schema({{"country", Type::kString, true}});
  auto missing = Join::build(*store, {"pin", "geo", "user"}, schemas, "ind", kHour);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("stream 'geo'"), std::string::npos);
  schemas[1] = Schema({{"ind", Type::kString, true}});
  EXPECT_FALSE(Join::build(*store, {"pin", "geo", "user"}, schemas, "ind", kHour).has_value());
}

}  // namespace
}  // namespace pinstream::state
