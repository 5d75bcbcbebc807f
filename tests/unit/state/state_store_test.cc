#include "state/state_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "state/codec.h"
#include "tests/support/test_support.h"

namespace pinstream::state {
namespace {
using pinstream::testing::TempDir;

std::unique_ptr<StateStore> open_store(const std::filesystem::path& dir, bool read_only = false) {
  StateStore::Options o;
  o.read_only = read_only;
  auto s = StateStore::open(dir.string(), o);
  EXPECT_TRUE(s.has_value()) << s.error().to_string();
  return s.has_value() ? std::move(s).value() : nullptr;
}

std::optional<std::string> get(const StateStore::Reader& r, std::string_view k) {
  auto v = r.get(k);
  EXPECT_TRUE(v.has_value());
  return v.has_value() ? *v : std::nullopt;
}

std::vector<std::string> scan_keys(const StateStore::Reader& r, std::string_view prefix) {
  std::vector<std::string> keys;
  EXPECT_TRUE(r.scan(prefix, [&](std::string_view k, std::string_view) {
                 keys.emplace_back(k);
                 return true;
               }).is_ok());
  return keys;
}

TEST(StateStore, WriteBatchIsVisibleAfterWriteAndSurvivesReopen) {
  TempDir dir;
  {
    auto store = open_store(dir / "db");
    StateStore::WriteBatch b;
    b.put("a/1", "one");
    b.put("a/2", "two");
    b.del("a/2");
    EXPECT_EQ(b.count(), 3u);
    EXPECT_FALSE(get(store->live(), "a/1"));
    ASSERT_TRUE(store->write(b).is_ok());
    EXPECT_EQ(get(store->live(), "a/1"), "one");
    EXPECT_FALSE(get(store->live(), "a/2"));
  }
  auto again = open_store(dir / "db");
  EXPECT_EQ(get(again->live(), "a/1"), "one");
}

TEST(StateStore, ScanReturnsOnlyThePrefixInKeyOrderAndStopsWhenAsked) {
  TempDir dir;
  auto store = open_store(dir / "db");
  StateStore::WriteBatch b;
  for (const char* k : {"b/3", "a/9", "b/1", "b/2", "c/0", "b"}) b.put(k, "");
  ASSERT_TRUE(store->write(b).is_ok());
  EXPECT_EQ(scan_keys(store->live(), "b/"), (std::vector<std::string>{"b/1", "b/2", "b/3"}));
  int seen = 0;
  ASSERT_TRUE(store->live()
                  .scan("b/", [&](std::string_view, std::string_view) { return ++seen < 2; })
                  .is_ok());
  EXPECT_EQ(seen, 2);
}

TEST(StateStore, DeleteRangeRemovesHalfOpenInterval) {
  TempDir dir;
  auto store = open_store(dir / "db");
  StateStore::WriteBatch b;
  for (const char* k : {"k/1", "k/2", "k/3", "k/4"}) b.put(k, "v");
  ASSERT_TRUE(store->write(b).is_ok());
  StateStore::WriteBatch d;
  d.delete_range("k/2", "k/4");
  ASSERT_TRUE(store->write(d, false).is_ok());
  EXPECT_EQ(scan_keys(store->live(), "k/"), (std::vector<std::string>{"k/1", "k/4"}));
}

TEST(StateStore, AddI64MergesCountersWithoutReading) {
  TempDir dir;
  auto store = open_store(dir / "db");
  for (int64_t d : {5, -2, 10}) {
    StateStore::WriteBatch b;
    b.add_i64("c", d);
    b.add_i64("c", 1);
    ASSERT_TRUE(store->write(b).is_ok());
  }
  auto v = get(store->live(), "c");
  ASSERT_TRUE(v);
  std::string expected;
  put_i64(expected, 16);
  EXPECT_EQ(*v, expected);
}

TEST(StateStore, SnapshotDoesNotSeeLaterWrites) {
  TempDir dir;
  auto store = open_store(dir / "db");
  StateStore::WriteBatch b1;
  b1.put("x", "old");
  ASSERT_TRUE(store->write(b1).is_ok());
  auto snap = store->snapshot();
  StateStore::WriteBatch b2;
  b2.put("x", "new");
  b2.put("y", "added");
  ASSERT_TRUE(store->write(b2).is_ok());
  EXPECT_EQ(get(*snap, "x"), "old");
  EXPECT_FALSE(get(*snap, "y"));
  EXPECT_EQ(scan_keys(*snap, ""), (std::vector<std::string>{"x"}));
  EXPECT_EQ(get(store->live(), "x"), "new");
}

TEST(StateStore, CheckpointRestoresTheStateAtCheckpointTime) {
  TempDir dir;
  std::string db = (dir / "db").string(), cp = (dir / "cp").string();
  {
    auto store = open_store(db);
    StateStore::WriteBatch b;
    b.put("k", "at-checkpoint");
    ASSERT_TRUE(store->write(b).is_ok());
    ASSERT_TRUE(store->checkpoint(cp).is_ok());
    StateStore::WriteBatch later;
    later.put("k", "after");
    later.put("extra", "1");
    ASSERT_TRUE(store->write(later).is_ok());
    EXPECT_FALSE(store->checkpoint(cp).is_ok()) << "checkpoint into an existing dir must fail";
  }
  ASSERT_TRUE(StateStore::restore_from_checkpoint(cp, db).is_ok());
  auto store = open_store(db);
  EXPECT_EQ(get(store->live(), "k"), "at-checkpoint");
  EXPECT_FALSE(get(store->live(), "extra"));
  // The checkpoint itself is untouched by writes to the restored store.
  StateStore::WriteBatch b;
  b.put("k", "changed");
  ASSERT_TRUE(store->write(b).is_ok());
  store.reset();
  auto cps = open_store(cp, true);
  EXPECT_EQ(get(cps->live(), "k"), "at-checkpoint");
}

TEST(StateStore, RestoreFromMissingCheckpointIsNotFound) {
  TempDir dir;
  auto st = StateStore::restore_from_checkpoint((dir / "nope").string(), (dir / "db").string());
  EXPECT_EQ(st.code(), core::StatusCode::kNotFound);
}

TEST(StateStore, ReadOnlyOpenSeesCommittedStateWhileWriterHoldsIt) {
  TempDir dir;
  auto writer = open_store(dir / "db");
  StateStore::WriteBatch b;
  b.put("m/epoch", "7");
  ASSERT_TRUE(writer->write(b).is_ok());
  auto reader = open_store(dir / "db", true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(get(reader->live(), "m/epoch"), "7");
}

TEST(StateStore, ReadOnlyOpenOfAnEmptyDirIsNotFoundAndSecondWriterFails) {
  TempDir dir;
  StateStore::Options ro;
  ro.read_only = true;
  auto missing = StateStore::open((dir / "none").string(), ro);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), core::StatusCode::kNotFound);
  auto first = open_store(dir / "db");
  auto second = StateStore::open((dir / "db").string());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), core::StatusCode::kIoError);
}

}  // namespace
}  // namespace pinstream::state
