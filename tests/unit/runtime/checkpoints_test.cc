#include "stream/checkpoints.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
namespace fs = std::filesystem;

void make_checkpoint(const fs::path& dir, int64_t epoch) {
  CheckpointManifest m;
  m.id = checkpoint_id(epoch);
  m.epoch = epoch;
  m.time_micros = epoch * 1'000'000;
  m.positions = {{"t/0", "f:" + std::to_string(epoch)}};
  m.table_versions = {{"pin", epoch}};
  fs::create_directories(dir / m.id / "state");
  ASSERT_TRUE(write_manifest(dir.string(), m).is_ok());
}

TEST(Checkpoints, ListsCompleteOnesOldestFirstAndFindsByIdOrEpoch) {
  testing::TempDir dir;
  for (int64_t e : {20, 0, 10}) make_checkpoint(dir.path(), e);
  fs::create_directories(dir.path() / checkpoint_id(30) / "state");  // no manifest: incomplete
  auto all = list_checkpoints(dir.path().string());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "00000000");
  EXPECT_EQ(all[2].epoch, 20);
  EXPECT_EQ(find_checkpoint(dir.path().string(), "latest")->epoch, 20);
  EXPECT_EQ(find_checkpoint(dir.path().string(), "10")->id, "00000010");
  EXPECT_EQ(find_checkpoint(dir.path().string(), "00000010")->epoch, 10);
  auto missing = find_checkpoint(dir.path().string(), "7");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("have: 00000000, 00000010, 00000020"),
            std::string::npos);
  EXPECT_NE(
      all[1].to_line().find(
          "00000010  epoch=10  time=1970-01-01T00:00:10  positions={t/0:f:10}  versions={pin:10}"),
      std::string::npos)
      << all[1].to_line();
}

TEST(Checkpoints, PruneKeepsTheNewestAndDropsIncompleteOnes) {
  testing::TempDir dir;
  for (int64_t e = 0; e < 5; ++e) make_checkpoint(dir.path(), e * 10);
  fs::create_directories(dir.path() / "99999999");
  prune_checkpoints(dir.path().string(), 2);
  auto all = list_checkpoints(dir.path().string());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].epoch, 30);
  EXPECT_EQ(all[1].epoch, 40);
  EXPECT_FALSE(fs::exists(dir.path() / "99999999"));
}

}  // namespace
}  // namespace pinstream::runtime
