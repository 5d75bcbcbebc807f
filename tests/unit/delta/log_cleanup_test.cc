// Log cleanup (connectors/delta/log_cleanup.h): expired commits and checkpoints before the
// newest checkpoint are deleted, the table stays readable, nothing within the retention goes.
#include "connectors/delta/log_cleanup.h"

#include <gtest/gtest.h>

#include "connectors/delta/table.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta {
namespace {

core::Schema schema() { return core::Schema({{"ind", core::Type::kLong, false}}); }

TEST(DeltaLogCleanup, ReadsDeltaIntervals) {
  EXPECT_EQ(parse_interval_ms("interval 30 days"), kDefaultLogRetentionMs);
  EXPECT_EQ(parse_interval_ms("1 week"), kDefaultDeletedFileRetentionMs);
  EXPECT_EQ(parse_interval_ms("interval 2 hours"), 2 * 3600 * 1000);
  EXPECT_EQ(parse_interval_ms("soon"), -1);
}

TEST(DeltaLogCleanup, DeletesExpiredLogFilesBeforeTheNewestCheckpointOnly) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  TableOptions opts;
  opts.checkpoint_interval = 5;
  auto t = DeltaTable::open(root, "t", schema(), opts);
  ASSERT_TRUE(t.has_value());
  for (int64_t e = 1; e <= 12; ++e) {
    auto w = (*t)->new_writer();
    ASSERT_TRUE(w->append({core::Value::of_long(e)}).is_ok());
    auto adds = w->finish();
    ASSERT_TRUE(adds.has_value());
    ASSERT_TRUE((*t)->commit(*adds, "app", e).has_value());
  }
  auto before = list_log((*t)->store());
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->commits.size(), 13u);  // the commits' own cleanup found nothing expired
  EXPECT_EQ(before->checkpoints, (std::set<int64_t>{5, 10}));
  // Within the retention: nothing goes.
  auto none = clean_log((*t)->store(), 10, kDefaultLogRetentionMs, now_ms());
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->commits + none->checkpoints, 0);
  // ... and it says when the oldest commit kept was made (no cleanup is due before it expires).
  EXPECT_GT(none->oldest_kept_ms, 0);
  EXPECT_LE(none->oldest_kept_ms, now_ms());
  // 31 days later: commits 0..9 and checkpoint 5 go; 10 and later stay.
  auto later = now_ms() + kDefaultLogRetentionMs + 24ll * 3600 * 1000;
  auto done = clean_log((*t)->store(), 10, kDefaultLogRetentionMs, later);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->commits, 10);
  EXPECT_EQ(done->checkpoints, 1);
  auto after = list_log((*t)->store());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->commits, (std::set<int64_t>{10, 11, 12}));
  EXPECT_EQ(after->checkpoints, (std::set<int64_t>{10}));
  // A new handle reads the table from the checkpoint: the same 12 rows' files.
  auto again = DeltaTable::open(root, "t", schema(), opts);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  auto files = (*again)->active_files();
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->size(), 12u);
  EXPECT_EQ(*(*again)->latest_version(), 12);
}

}  // namespace
}  // namespace pinstream::connectors::delta
