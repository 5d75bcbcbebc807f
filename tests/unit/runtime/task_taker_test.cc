// The polling thread's side of task hand-off (stream/task_taker.h): a task whose checkpoint
// is at the tables' epoch is imported once and each of its partitions reads on after its
// position once (from the start when the checkpoint holds none); a task whose checkpoint is
// older than the tables is held, naming both epochs; a task nobody wrote starts fresh.
#include "stream/task_taker.h"

#include <gtest/gtest.h>

#include "connectors/delta/table.h"
#include "connectors/objstore/local_store.h"
#include "stream/tables_owner.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {

TEST(TaskTaker, ImportsOnceHandsEachPositionOnceAndHoldsWhatIsBehindTheTables) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  core::Schema schema({{"ind", core::Type::kLong, false}});
  {
    auto t = connectors::delta::DeltaTable::open(root + "/pin", "pin", schema);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    ASSERT_TRUE((*t)->commit({}, std::vector<std::string>{"pinstream-p-p1", "pinstream-p-p2"}, 6)
                    .has_value());
  }
  auto tables = open_tables_root(root);
  ASSERT_TRUE(tables.has_value());
  auto objects = connectors::objstore::make_local_store((dir.path() / "cp").string());
  TaskCheckpoints cks(*objects, "p");
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 1;
  ck.epoch = 6;
  ck.positions = {{"p.pin/1", "41"}, {"p.geo/1", "17"}};
  ASSERT_TRUE(cks.publish(ck).is_ok());
  ck.task = 2;
  ck.epoch = 5;  // older than the tables' 6: its owner committed after it
  ck.positions = {{"p.pin/2", "9"}};
  ASSERT_TRUE(cks.publish(ck).is_ok());

  std::vector<std::pair<int32_t, int64_t>> imported;
  TaskTaker::Hooks hooks;
  hooks.committed = [] {
    EpochMeta m;
    m.pipeline_id = "p";
    return m;
  };
  hooks.import = [&](const TaskCheckpoint& c, int64_t v) {
    imported.emplace_back(c.task, v);
    return core::Status::ok();
  };
  TaskTaker taker(std::make_shared<TaskGuard>(*tables, root, std::vector<std::string>{"pin"}, "p"),
                  std::make_unique<TaskCheckpoints>(*objects, "p"), hooks);
  auto pin1 = taker.take("p.pin/1");
  ASSERT_TRUE(pin1.has_value()) << pin1.error().to_string();
  EXPECT_EQ(*pin1, std::optional<std::string>("41"));
  EXPECT_EQ(*taker.take("p.geo/1"), std::optional<std::string>("17"));
  EXPECT_EQ(*taker.take("p.user/1"), std::optional<std::string>(""));  // never read: start
  EXPECT_EQ(*taker.take("p.pin/1"), std::nullopt);  // later rebalances: its own position
  EXPECT_EQ(imported, (std::vector<std::pair<int32_t, int64_t>>{{1, 6}}));

  auto held = taker.take("p.pin/2");
  ASSERT_FALSE(held.has_value());
  EXPECT_NE(held.error().message().find(
                "task 2: its newest task checkpoint is at epoch 5 but the tables hold epoch 6"),
            std::string::npos)
      << held.error().message();
  EXPECT_EQ(*taker.take("p.pin/3"), std::nullopt);  // fresh
  EXPECT_EQ(imported.size(), 1u);
  // The held task and its reason, as the stats answer shows them, until it is taken.
  const auto now_held = taker.held();
  ASSERT_EQ(now_held.size(), 1u);
  EXPECT_NE(now_held.at(2).find("newest task checkpoint is at epoch 5"), std::string::npos);
  ck.epoch = 6;
  ASSERT_TRUE(cks.publish(ck).is_ok());
  EXPECT_EQ(*taker.take("p.geo/2"), std::optional<std::string>(""));
  EXPECT_TRUE(taker.held().empty());
}

// A task this member gave away (forget) is never taken as its own again, even while the
// committed metadata it reads still lists it: it comes back by importing its newest
// checkpoint (another member may have read on meanwhile).
TEST(TaskTaker, ATaskGivenAwayIsImportedBackNeverTakenAsOwned) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  core::Schema schema({{"ind", core::Type::kLong, false}});
  {
    auto t = connectors::delta::DeltaTable::open(root + "/pin", "pin", schema);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    ASSERT_TRUE((*t)->commit({}, std::vector<std::string>{"pinstream-p-p3"}, 6).has_value());
  }
  auto tables = open_tables_root(root);
  ASSERT_TRUE(tables.has_value());
  auto objects = connectors::objstore::make_local_store((dir.path() / "cp").string());
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 3;
  ck.epoch = 6;
  ck.positions = {{"p.pin/3", "80"}};
  ASSERT_TRUE(TaskCheckpoints(*objects, "p").publish(ck).is_ok());
  int imports = 0;
  TaskTaker::Hooks hooks;
  hooks.committed = [] {  // stale: still lists task 3 at the tables' epoch
    EpochMeta m;
    m.pipeline_id = "p";
    m.positions = {{"p.pin/3", "50"}};
    m.task_epochs[3] = 6;
    return m;
  };
  hooks.import = [&](const TaskCheckpoint&, int64_t) {
    ++imports;
    return core::Status::ok();
  };
  TaskTaker taker(std::make_shared<TaskGuard>(*tables, root, std::vector<std::string>{"pin"}, "p"),
                  std::make_unique<TaskCheckpoints>(*objects, "p"), hooks);
  EXPECT_EQ(*taker.take("p.pin/3"), std::nullopt);  // its own: read on from its position
  taker.forget(3);
  EXPECT_EQ(*taker.take("p.pin/3"), std::optional<std::string>("80"));
  EXPECT_EQ(imports, 1);
}

}  // namespace
}  // namespace pinstream::runtime
