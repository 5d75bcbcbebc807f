#include "stream/tasks.h"

#include <gtest/gtest.h>

namespace pinstream::runtime {
namespace {

TEST(Tasks, APartitionNumberIsItsTask) {
  EXPECT_EQ(task_of_partition("pinterest.pin/0"), 0);
  EXPECT_EQ(task_of_partition("pinterest.geo/5"), 5);
  EXPECT_EQ(task_of_partition("redrive:pinterest.user/3"), 3);
  EXPECT_EQ(task_of_partition("streaming-pinterest-pin/shardId-000000000001"), std::nullopt);
  EXPECT_EQ(task_of_partition("pin/*.json"), std::nullopt);
  EXPECT_EQ(task_of_partition("nopartition"), std::nullopt);
  core::Positions pos = {{"t.pin/2", "9"}, {"t.geo/2", "4"}, {"t.user/0", "1"}, {"x/glob", "1"}};
  EXPECT_EQ(tasks_of(pos), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(tasks_of({}), (std::vector<int32_t>{0}));
}

TEST(Tasks, AppIdsRoundTrip) {
  EXPECT_EQ(task_app_ids("acme", TaskMode::kSingle, {0, 1}, 3),
            (std::vector<std::string>{"pinstream-acme-g3"}));
  EXPECT_EQ(task_app_ids("acme", TaskMode::kPartitions, {0, 4}, 0),
            (std::vector<std::string>{"pinstream-acme-p0", "pinstream-acme-p4"}));
  EXPECT_EQ(task_app_ids("acme", TaskMode::kPartitions, {1}, 2),
            (std::vector<std::string>{"pinstream-acme-p1-g2"}));
  auto single = parse_app_id("pinstream-acme-g3", "acme");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->task, -1);
  EXPECT_EQ(single->generation, 3);
  auto p = parse_app_id("pinstream-acme-p4", "acme");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->task, 4);
  EXPECT_EQ(p->generation, 0);
  auto pg = parse_app_id("pinstream-acme-p12-g7", "acme");
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->task, 12);
  EXPECT_EQ(pg->generation, 7);
  for (const char* other :
       {"pinstream-other-g1", "pinstream-acme-p", "pinstream-acme-px", "pinstream-acme-p1-g0",
        "pinstream-acme-p1-g", "app", "pinstream-acme-"})
    EXPECT_FALSE(parse_app_id(other, "acme")) << other;
}

}  // namespace
}  // namespace pinstream::runtime
