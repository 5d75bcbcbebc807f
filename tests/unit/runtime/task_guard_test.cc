// The guard of a `tasks: partitions` member (stream/task_guard.h): a partition whose task the
// shared tables already hold is refused, naming the task, the table and its txn.
#include "stream/task_guard.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "connectors/delta/table.h"
#include "stream/tables_owner.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {

TEST(TaskGuard, RefusesAPartitionWhoseTaskTheTablesHoldAndAllowsTheOthers) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "tables").string();
  core::Schema schema({{"ind", core::Type::kLong, false}});
  {
    auto t = connectors::delta::DeltaTable::open(root + "/pin", "pin", schema);
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    ASSERT_TRUE((*t)->commit({}, std::vector<std::string>{"pinstream-p-p1", "pinstream-q-p0"}, 4)
                    .has_value());
  }
  auto store = open_tables_root(root);
  ASSERT_TRUE(store.has_value()) << store.error().to_string();
  TaskGuard guard(*store, root, {"absent", "pin"}, "p");
  EXPECT_TRUE(guard.may_start_fresh("p.pin/0").is_ok());  // q's task 0 is another pipeline's
  EXPECT_TRUE(guard.may_start_fresh("p.geo/2").is_ok());
  core::Status st = guard.may_start_fresh("p.user/1");
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("task 1 (partition p.user/1)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("table pin already holds its commits (txn pinstream-p-p1 = epoch 4)"),
            std::string::npos)
      << st.message();
}

TEST(TaskGuard, MembersSharingTasksKeepTheirCheckpointsUnderTheirInstanceId) {
  PipelineConfig cfg;
  cfg.runtime.data_dir = "/srv/member-a";
  EXPECT_EQ(member_checkpoints_dir(cfg), "/srv/member-a/checkpoints");
  cfg.runtime.checkpoints = "s3://bucket/cp";
  EXPECT_EQ(member_checkpoints_dir(cfg), "s3://bucket/cp");  // tasks: single
  cfg.tasks = TaskMode::kPartitions;
  cfg.source_kind = "kafka";
  ::unsetenv("PINSTREAM_INSTANCE_ID");
  const std::string a = member_checkpoints_dir(cfg);
  EXPECT_EQ(a.rfind("s3://bucket/cp/members/pinstream-", 0), 0u) << a;
  cfg.runtime.data_dir = "/srv/member-b";
  EXPECT_NE(member_checkpoints_dir(cfg), a);
  ::setenv("PINSTREAM_INSTANCE_ID", "m7", 1);
  EXPECT_EQ(member_checkpoints_dir(cfg), "s3://bucket/cp/members/m7");
  ::unsetenv("PINSTREAM_INSTANCE_ID");
}

}  // namespace
}  // namespace pinstream::runtime
