// Task checkpoints (stream/task_checkpoint.h): a task's state keys and positions exported
// from one state and imported into another, damage and foreign files refused, the newest
// kept per task, and the epoch jump of the importing state.
#include "stream/task_checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/objstore/local_store.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
using pinstream::testing::TempDir;
using state::StateStore;
using Keys = std::vector<std::pair<std::string, std::string>>;
using namespace std::string_literals;  // NOLINT: keys with a NUL inside

std::unique_ptr<StateStore> open_state(const TempDir& dir, const std::string& name) {
  auto s = StateStore::open((dir / name).string());
  EXPECT_TRUE(s.has_value()) << s.error().to_string();
  return std::move(*s);
}

void put_all(StateStore& store, const Keys& keys, const EpochMeta* meta) {
  StateStore::WriteBatch batch;
  for (const auto& [k, v] : keys) batch.put(k, v);
  if (meta) batch.put(kEpochMetaKey, meta->to_json());
  ASSERT_TRUE(store.write(batch).is_ok());
}

Keys all_keys(const StateStore& store) {
  Keys out;
  EXPECT_TRUE(store.live()
                  .scan("",
                        [&](std::string_view k, std::string_view v) {
                          if (k != kEpochMetaKey) out.emplace_back(k, v);
                          return true;
                        })
                  .is_ok());
  return out;
}

EpochMeta stored_meta(const StateStore& store) {
  auto raw = store.live().get(kEpochMetaKey);
  EXPECT_TRUE(raw.has_value() && *raw);
  return *EpochMeta::from_json(**raw);
}

StreamCounters counted(int64_t read) { return {.read = read, .clean = read}; }

// Tasks 0, 1 and 12 of the pipeline "p" at epoch 7: task 0's keys are unprefixed, of every
// kind (including one no code writes today: any key of the task moves with it).
EpochMeta source_meta() {
  EpochMeta m;
  m.epoch = 7;
  m.pipeline_id = "p";
  m.tasks = TaskMode::kPartitions;
  m.positions = {{"p.pin/0", "10"}, {"p.geo/0", "11"}, {"p.pin/1", "20"}, {"p.pin/12", "5"}};
  m.event_time_max = {{"p.geo/0", 1000}, {"p.geo/1", 2000}};
  m.archive_next = {{"p.pin/0", 3}, {"p.pin/1", 4}};
  m.task_counters = {{0, {{"pin", counted(10)}}}, {1, {{"pin", counted(20)}}}};
  m.counters = {{"pin", counted(30)}};
  m.task_epochs = {{0, 7}, {1, 7}, {12, 7}};
  return m;
}

const Keys kSourceKeys = {{"D/0001", "claims"}, {"a/count\0x"s, "1"},   {"j/42", "part"},
                          {"jc/pin", "ind"},    {"t1/a/count", "t1"},   {"t12/j/9", "t12"},
                          {"w/count\0w"s, ""},  {"wl/last_window", "7"}};

TEST(TaskCheckpoint, TaskZeroMovesItsUnprefixedKeysAndPositionsAndLeavesOtherTasksAlone) {
  TempDir dir;
  auto from = open_state(dir, "a");
  EpochMeta meta = source_meta();
  put_all(*from, kSourceKeys, &meta);
  auto ck = export_task(*from->snapshot(), 0);
  ASSERT_TRUE(ck.has_value()) << ck.error().to_string();
  EXPECT_EQ(ck->epoch, 7);
  EXPECT_EQ(ck->positions, (core::Positions{{"p.geo/0", "11"}, {"p.pin/0", "10"}}));
  EXPECT_EQ(ck->event_time_max, (std::map<std::string, int64_t>{{"p.geo/0", 1000}}));
  Keys task0 = {{"D/0001", "claims"}, {"a/count\0x"s, "1"}, {"j/42", "part"},
                {"jc/pin", "ind"},    {"w/count\0w"s, ""},  {"wl/last_window", "7"}};
  EXPECT_EQ(ck->state, task0);
  auto back = decode_task_checkpoint(encode_task_checkpoint(*ck), task_checkpoint_key(0, 7), "p");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->state, task0);
  EXPECT_EQ(back->counters.at("pin").read, 10);

  // The importer holds task 2, and stale keys of task 0 that the import replaces.
  auto to = open_state(dir, "b");
  EpochMeta mine;
  mine.epoch = 3;
  mine.pipeline_id = "p";
  mine.tasks = TaskMode::kPartitions;
  mine.positions = {{"p.pin/2", "8"}};
  mine.task_counters = {{2, {{"pin", counted(8)}}}};
  mine.counters = {{"pin", counted(8)}};
  put_all(*to, {{"a/stale", "x"}, {"t2/a/count", "t2"}, {"zz/old", "y"}}, &mine);
  ASSERT_TRUE(import_task(*to, mine, *back, 7).is_ok());
  Keys want = task0;
  want.emplace_back("t2/a/count", "t2");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(all_keys(*to), want);
  EpochMeta got = stored_meta(*to);
  EXPECT_EQ(got.positions,
            (core::Positions{{"p.geo/0", "11"}, {"p.pin/0", "10"}, {"p.pin/2", "8"}}));
  EXPECT_EQ(got.counters.at("pin").read, 18);
  EXPECT_EQ(got.task_counters.at(0).at("pin").read, 10);
  EXPECT_EQ(got.task_epochs.at(0), 7);
  EXPECT_EQ(got.epoch, 7);
  EXPECT_EQ(mine.to_json(), got.to_json());
}

TEST(TaskCheckpoint, TaskOneMovesOnlyItsPrefixNotTaskTwelves) {
  TempDir dir;
  auto from = open_state(dir, "a");
  EpochMeta meta = source_meta();
  put_all(*from, kSourceKeys, &meta);
  auto ck = export_task(*from->snapshot(), 1);
  ASSERT_TRUE(ck.has_value());
  EXPECT_EQ(ck->state, (Keys{{"t1/a/count", "t1"}}));
  EXPECT_EQ(ck->positions, (core::Positions{{"p.pin/1", "20"}}));

  auto to = open_state(dir, "b");
  EpochMeta mine;
  mine.pipeline_id = "p";
  put_all(*to, {{"t1/j/old", "x"}, {"t12/a/keep", "k"}, {"t10/a/keep", "k"}}, &mine);
  ASSERT_TRUE(import_task(*to, mine, *ck, 7).is_ok());
  EXPECT_EQ(all_keys(*to), (Keys{{"t1/a/count", "t1"}, {"t10/a/keep", "k"}, {"t12/a/keep", "k"}}));

  // Releasing it removes its keys and its part of the metadata, nothing else.
  ASSERT_TRUE(release_task(*to, mine, 1).is_ok());
  EXPECT_EQ(all_keys(*to), (Keys{{"t10/a/keep", "k"}, {"t12/a/keep", "k"}}));
  EpochMeta got = stored_meta(*to);
  EXPECT_TRUE(got.positions.empty());
  EXPECT_FALSE(got.task_epochs.count(1));
  EXPECT_EQ(got.counters.at("pin").read, 0);
}

// A running engine's metadata counts the records of the epoch it has not committed yet; a
// release mid-run must write the committed metadata without the task, never those counts
// (a restart reads those records again and would count them twice).
TEST(TaskCheckpoint, AReleaseMidEpochWritesTheCommittedMetadataWithoutTheTask) {
  TempDir dir;
  auto store = open_state(dir, "a");
  EpochMeta committed = source_meta();
  put_all(*store, kSourceKeys, &committed);
  EpochMeta running = committed;  // task 0 read 5 more records in the epoch being sealed
  running.task_counters[0]["pin"] = counted(15);
  running.counters["pin"] = counted(35);
  running.positions["p.pin/0"] = "15";

  ASSERT_TRUE(release_task(*store, running, 1).is_ok());
  EpochMeta got = stored_meta(*store);
  EXPECT_EQ(got.counters.at("pin").read, 10);
  EXPECT_EQ(got.positions.at("p.pin/0"), "10");
  EXPECT_FALSE(got.positions.count("p.pin/1"));
  EXPECT_FALSE(got.task_counters.count(1));
  EXPECT_FALSE(got.task_epochs.count(1));
  // In memory the epoch's records stay counted; the task is gone there too.
  EXPECT_EQ(running.counters.at("pin").read, 15);
  EXPECT_EQ(running.positions.at("p.pin/0"), "15");
  EXPECT_FALSE(running.positions.count("p.pin/1"));
  EXPECT_FALSE(running.task_counters.count(1));
  Keys left = all_keys(*store);
  EXPECT_TRUE(std::none_of(left.begin(), left.end(),
                           [](const auto& kv) { return kv.first.starts_with("t1/"); }));
}

TEST(TaskCheckpoint, DamagedAndForeignObjectsAreRefusedNamingThem) {
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 3;
  ck.epoch = 9;
  ck.state = {{"t3/a/x", "1"}};
  const std::string key = task_checkpoint_key(3, 9);
  EXPECT_EQ(key, "tasks/p3/00000009.task");
  std::string bytes = encode_task_checkpoint(ck);
  for (size_t at : {size_t{2}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    auto r = decode_task_checkpoint(bad, key, "p");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), core::StatusCode::kCorruption);
    EXPECT_NE(r.error().message().find("task checkpoint " + key + " is damaged"), std::string::npos)
        << r.error().message();
  }
  auto cut = decode_task_checkpoint(bytes.substr(0, bytes.size() - 9), key, "p");
  ASSERT_FALSE(cut.has_value());
  auto renamed = decode_task_checkpoint(bytes, task_checkpoint_key(3, 10), "p");
  ASSERT_FALSE(renamed.has_value());
  EXPECT_NE(renamed.error().message().find("holds task 3 epoch 9"), std::string::npos);
  auto foreign = decode_task_checkpoint(bytes, key, "q");
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(foreign.error().message().find(key + " belongs to pipeline p, not q"),
            std::string::npos);
}

TEST(TaskCheckpoint, TheNewestTwoAreKeptAndADamagedNewestIsNeverPassedOver) {
  TempDir dir;
  auto objects = connectors::objstore::make_local_store((dir / "store").string());
  TaskCheckpoints cks(*objects, "p");
  auto none = cks.newest(4);
  ASSERT_TRUE(none.has_value() && !*none);
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 4;
  for (int64_t e : {3, 12, 5, 9}) {
    ck.epoch = e;
    ASSERT_TRUE(cks.publish(ck).is_ok());
  }
  ASSERT_TRUE(cks.publish(ck).is_ok());  // once more: already there
  ASSERT_TRUE(objects->put("tasks/p40/00000001.task", "other task").is_ok());
  EXPECT_EQ(*cks.epochs(4), (std::vector<int64_t>{9, 12}));
  auto newest = cks.newest(4);
  ASSERT_TRUE(newest.has_value() && *newest) << newest.error().to_string();
  EXPECT_EQ((*newest)->epoch, 12);
  ASSERT_TRUE(objects->put(task_checkpoint_key(4, 13), "garbage").is_ok());
  auto damaged = cks.newest(4);
  ASSERT_FALSE(damaged.has_value());
  EXPECT_NE(damaged.error().message().find("tasks/p4/00000013.task"), std::string::npos);
}

TEST(TaskCheckpoint, ImportJumpsTheEpochPastTheTablesAndDropsLandedPendingAdds) {
  TempDir dir;
  auto to = open_state(dir, "b");
  EpochMeta mine;
  mine.epoch = 4;
  mine.pipeline_id = "p";
  mine.positions = {{"p.pin/2", "8"}};
  mine.pending = {{"pin", {"{\"add\":{}}"}}};
  mine.table_epochs = {{"pin", 4}};
  put_all(*to, {}, &mine);
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 1;
  ck.epoch = 6;
  ck.positions = {{"p.pin/1", "30"}};
  // The tables hold epoch 6 for the task (V >= the next epoch 5): the next commit is 7.
  ASSERT_TRUE(import_task(*to, mine, ck, 6).is_ok());
  EXPECT_EQ(stored_meta(*to).epoch, 6);
  EXPECT_TRUE(stored_meta(*to).pending.empty());
  EXPECT_EQ(stored_meta(*to).table_epochs.at("pin"), 4);
  EXPECT_EQ(stored_meta(*to).task_epochs.at(1), 6);
  // A state already past the tables keeps its epoch.
  ck.task = 3;
  ck.epoch = 2;
  ASSERT_TRUE(import_task(*to, mine, ck, 2).is_ok());
  EXPECT_EQ(mine.epoch, 6);
  // Another generation, or an open commit group, is refused.
  ck.generation = 1;
  EXPECT_EQ(import_task(*to, mine, ck, 2).code(), core::StatusCode::kInvalidArgument);
  ck.generation = 0;
  mine.group = {{"pin", {"{}"}}};
  EXPECT_EQ(import_task(*to, mine, ck, 2).code(), core::StatusCode::kInvalidArgument);
}

TEST(TaskCheckpoint, ExportRefusesAnOpenCommitGroup) {
  TempDir dir;
  auto from = open_state(dir, "a");
  EpochMeta meta = source_meta();
  meta.group = {{"pin", {"{}"}}};
  put_all(*from, kSourceKeys, &meta);
  auto ck = export_task(*from->snapshot(), 0);
  ASSERT_FALSE(ck.has_value());
  EXPECT_NE(ck.error().message().find("commit group"), std::string::npos);
  auto empty = open_state(dir, "c");
  EXPECT_EQ(export_task(*empty->snapshot(), 0).error().code(), core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinstream::runtime
