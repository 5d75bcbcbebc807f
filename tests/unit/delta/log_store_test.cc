// The Delta log's keys in an ObjectStore, sub stores, and commits from a handle whose
// snapshot is stale (its first attempt meets a taken version and re-reads the log).
#include "connectors/delta/log_store.h"

#include <gtest/gtest.h>

#include "connectors/delta/table.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta {
namespace {

core::Schema schema() { return core::Schema({{"ind", core::Type::kLong, false}}); }

TEST(DeltaLogStore, KeysAreTheProtocolsNames) {
  EXPECT_EQ(commit_key(7), "_delta_log/00000000000000000007.json");
  EXPECT_EQ(checkpoint_key(10), "_delta_log/00000000000000000010.checkpoint.parquet");
  EXPECT_EQ(data_key("d%3D1/part-0.parquet"), "d=1/part-0.parquet");
}

TEST(DeltaLogStore, ListingKeepsCommitsAndCheckpointsOnly) {
  testing::TempDir dir;
  auto store = objstore::open_store(dir.path().string());
  ASSERT_TRUE(store.has_value());
  for (const std::string& key : {commit_key(0), commit_key(1), commit_key(12), checkpoint_key(10),
                                 std::string("_delta_log/_last_checkpoint"),
                                 std::string("_delta_log/00000000000000000003.crc"),
                                 std::string("_delta_log/x.json"), std::string("part-0.parquet")})
    ASSERT_TRUE((*store)->put(key, "{}").is_ok()) << key;
  auto log = list_log(**store);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->commits, (std::set<int64_t>{0, 1, 12}));
  EXPECT_EQ(log->checkpoints, (std::set<int64_t>{10}));
}

TEST(DeltaLogStore, SubStoreKeysAreRelativeToItsPrefix) {
  testing::TempDir dir;
  auto opened = objstore::open_store(dir.path().string());
  ASSERT_TRUE(opened.has_value());
  std::shared_ptr<ObjectStore> root(std::move(*opened));
  auto pin = sub_store(root, "pin");
  ASSERT_TRUE(pin->put("_delta_log/a", "1").is_ok());
  ASSERT_TRUE(root->put("pinned/_delta_log/b", "2").is_ok());  // a sibling sharing the prefix
  EXPECT_EQ(*root->get("pin/_delta_log/a"), "1");
  auto listed = pin->list("_delta_log/");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).key, "_delta_log/a");
  EXPECT_EQ(pin->describe(), dir.path().string() + "/pin");
  EXPECT_EQ(pin->put_if_absent("_delta_log/a", "3").code(), core::StatusCode::kAlreadyExists);
}

TEST(DeltaStaleHandle, CommitsAfterTheVersionsAnotherHandleTookAndSkipsItsOwnTxn) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "t").string();
  auto a = DeltaTable::open(root, "t", schema());
  auto b = DeltaTable::open(root, "t", schema());
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_EQ((*a)->commit({}, "app-a", 1)->version, 1);
  ASSERT_EQ((*a)->commit({}, "app-a", 2)->version, 2);
  // b still knows version 0: its first attempt finds version 1 taken, the retry commits 3.
  auto c = (*b)->commit({}, "app-b", 1);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->version, 3);
  EXPECT_FALSE(c->skipped);
  // A txn already in the log (committed by the other handle) is skipped, not written again.
  auto d = DeltaTable::open(root, "t", schema());
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ((*a)->commit({}, "app-a", 3)->version, 4);
  auto again = (*d)->commit({}, "app-a", 3);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(*(*d)->latest_version(), 4);
}

// A commit of several tasks carries one txn per task (SPEC section 9); any of them at the
// version makes the commit a no-op, as the txns of one commit land together.
TEST(DeltaTxn, OneCommitCarriesOneTxnPerAppIdAndAnyOfThemSkipsIt) {
  testing::TempDir dir;
  auto t = DeltaTable::open((dir.path() / "t").string(), "t", schema());
  ASSERT_TRUE(t.has_value());
  const std::vector<std::string> tasks = {"pinstream-x-p0", "pinstream-x-p1"};
  auto c = (*t)->commit({}, tasks, 4);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_FALSE(c->skipped);
  auto reopened = DeltaTable::open((dir.path() / "t").string(), "t", schema());
  ASSERT_TRUE(reopened.has_value());
  auto txn = (*reopened)->txn_versions();
  ASSERT_TRUE(txn.has_value());
  EXPECT_EQ(*txn, (std::map<std::string, int64_t>{{"pinstream-x-p0", 4}, {"pinstream-x-p1", 4}}));
  auto again =
      (*reopened)->commit({}, std::vector<std::string>{"pinstream-x-p1", "pinstream-x-p2"}, 4);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(*(*reopened)->latest_version(), c->version);
}

}  // namespace
}  // namespace pinstream::connectors::delta
