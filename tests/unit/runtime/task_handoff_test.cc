// Who reads an assigned task next (stream/task_handoff.h): its owner at the tables' epoch
// goes on, a checkpoint at or past the tables' epoch is imported, nothing at all starts
// fresh, and anything else is held with the reason, never read from an older position.
#include "stream/task_handoff.h"

#include <gtest/gtest.h>

namespace pinstream::runtime {
namespace {

using Newest = core::Result<std::optional<TaskCheckpoint>>;

EpochMeta holding_task_two_at(int64_t task_epoch) {
  EpochMeta m;
  m.pipeline_id = "p";
  m.epoch = 20;
  m.positions = {{"p.pin/2", "5"}, {"p.pin/3", "7"}};
  m.task_epochs = {{2, task_epoch}, {3, 20}};
  return m;
}

Newest checkpoint_at(int64_t epoch) {
  TaskCheckpoint ck;
  ck.pipeline_id = "p";
  ck.task = 2;
  ck.epoch = epoch;
  return std::optional<TaskCheckpoint>(ck);
}

TEST(TaskHandoff, TheOwnerAtTheTablesEpochGoesOnAndAnOwnerBehindThemDoesNot) {
  EXPECT_EQ(decide_task(2, holding_task_two_at(12), 12, checkpoint_at(9)).take, TaskTake::kOwned);
  // Another member committed the task after this state's last commit of it.
  TaskDecision d = decide_task(2, holding_task_two_at(12), 15, checkpoint_at(15));
  EXPECT_EQ(d.take, TaskTake::kImport);
  EXPECT_EQ(d.checkpoint->epoch, 15);
  // A state from before task epochs were recorded owns what its epoch covers.
  EpochMeta old = holding_task_two_at(0);
  old.task_epochs.clear();
  EXPECT_EQ(decide_task(2, old, 20, Newest(std::nullopt)).take, TaskTake::kOwned);
  EXPECT_EQ(decide_task(2, old, 21, Newest(std::nullopt)).take, TaskTake::kHeld);
}

TEST(TaskHandoff, ACheckpointAtOrPastTheTablesIsImportedAndNothingAtAllStartsFresh) {
  EpochMeta none;
  none.pipeline_id = "p";
  EXPECT_EQ(decide_task(2, none, 9, checkpoint_at(9)).take, TaskTake::kImport);
  EXPECT_EQ(decide_task(2, none, 9, checkpoint_at(11)).take, TaskTake::kImport);
  EXPECT_EQ(decide_task(2, none, std::nullopt, checkpoint_at(3)).take, TaskTake::kImport);
  EXPECT_EQ(decide_task(2, none, std::nullopt, Newest(std::nullopt)).take, TaskTake::kFresh);
}

TEST(TaskHandoff, AnOlderOrMissingOrDamagedCheckpointHoldsTheTaskSayingWhy) {
  EpochMeta none;
  none.pipeline_id = "p";
  TaskDecision older = decide_task(2, none, 14, checkpoint_at(9));
  EXPECT_EQ(older.take, TaskTake::kHeld);
  EXPECT_EQ(older.tables_epoch, 14);
  EXPECT_NE(older.reason.find("task 2: its newest task checkpoint is at epoch 9 but the tables "
                              "hold epoch 14"),
            std::string::npos)
      << older.reason;
  TaskDecision missing = decide_task(2, none, 14, Newest(std::nullopt));
  EXPECT_EQ(missing.take, TaskTake::kHeld);
  EXPECT_NE(missing.reason.find("no task checkpoint of it exists"), std::string::npos);
  TaskDecision damaged =
      decide_task(2, none, 14, Newest(core::Status::corruption("task checkpoint x is damaged")));
  EXPECT_EQ(damaged.take, TaskTake::kHeld);
  EXPECT_NE(damaged.reason.find("task checkpoint x is damaged"), std::string::npos);
  // A task this state never held, without a txn or a checkpoint, starts fresh.
  EXPECT_EQ(decide_task(4, holding_task_two_at(12), std::nullopt, Newest(std::nullopt)).take,
            TaskTake::kFresh);
}

}  // namespace
}  // namespace pinstream::runtime
