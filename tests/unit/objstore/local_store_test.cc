#include "connectors/objstore/local_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/objstore/store_contract.h"

namespace pinstream::connectors::objstore {
namespace {

testing::TempDir& root() {
  static testing::TempDir dir("pinstream-local-store");
  return dir;
}

INSTANTIATE_TEST_SUITE_P(Local, StoreContract,
                         ::testing::Values(StoreFactory{
                             "local",
                             [](int) { return make_local_store(root().path().string()); }}),
                         [](const auto& p) { return p.param.name; });

TEST(LocalStore, LeavesNoTemporaryFilesAndOpensFromPathOrFileUrl) {
  testing::TempDir dir("pinstream-local-store-tmp");
  auto store = open_store("file://" + dir.path().string());
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE((*store)->put("a/b", "1").is_ok());
  ASSERT_TRUE((*store)->put_if_absent("a/c", "2").is_ok());
  EXPECT_FALSE((*store)->put_if_absent("a/c", "3").is_ok());
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 2);
  auto again = open_store(dir.path().string());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*(*again)->get("a/c"), "2");
}

TEST(LocalStore, ListsTemporaryFilesOnlyWhenAskedAndRemovesThem) {
  testing::TempDir dir("pinstream-local-store-leftovers");
  auto store = open_store(dir.path().string());
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE((*store)->put("t/a.parquet", "1").is_ok());
  testing::write_file(dir.path() / "t" / ".b.parquet.ps-tmp-5-1", "half");  // a killed write
  auto objects = (*store)->list("t/");
  ASSERT_TRUE(objects.has_value());
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].key, "t/a.parquet");
  auto temporaries = (*store)->list_temporaries("t/");
  ASSERT_TRUE(temporaries.has_value());
  ASSERT_EQ(temporaries->size(), 1u);
  EXPECT_EQ((*temporaries)[0].key, "t/.b.parquet.ps-tmp-5-1");
  EXPECT_EQ((*temporaries)[0].size, 4u);
  EXPECT_GT((*temporaries)[0].modified_ms, 0);
  ASSERT_TRUE((*store)->remove((*temporaries)[0].key).is_ok());
  EXPECT_TRUE((*store)->list_temporaries("t/")->empty());
  EXPECT_EQ((*store)->list("t/")->size(), 1u);
}

TEST(OpenStore, RefusesUnknownSchemesAndBadBuckets) {
  auto gcs = open_store("gs://bucket/x");
  ASSERT_FALSE(gcs.has_value());
  EXPECT_EQ(gcs.error().code(), core::StatusCode::kInvalidArgument);
  auto bad = open_store("s3://Bad_Bucket/x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("bucket"), std::string::npos);
  EXPECT_FALSE(open_store("").has_value());
}

}  // namespace
}  // namespace pinstream::connectors::objstore
