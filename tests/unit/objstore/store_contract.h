// The ObjectStore contract, one test suite for every implementation: instantiate
// StoreContract with a factory (see local_store_test.cc and the S3 integration test).
// Each test works under its own unique prefix, so instances can share a bucket.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "connectors/objstore/object_store.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::objstore {

struct StoreFactory {
  std::string name;
  // A store whose list pages hold at most `page_keys` keys (where the store pages).
  std::function<std::unique_ptr<ObjectStore>(int page_keys)> make;
};

inline std::ostream& operator<<(std::ostream& os, const StoreFactory& f) { return os << f.name; }

class StoreContract : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(1000);
    ASSERT_TRUE(store_) << "store did not open";
    base_ = testing::unique_name("contract") + "/";
  }
  std::string k(const std::string& key) const { return base_ + key; }
  std::unique_ptr<ObjectStore> store_;
  std::string base_;
};

TEST_P(StoreContract, PutThenGetReturnsTheSameBytesAndPutReplaces) {
  const std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->put(k("x/bin"), binary).is_ok());
  ASSERT_TRUE(store_->put(k("x/empty"), "").is_ok());
  EXPECT_EQ(*store_->get(k("x/bin")), binary);
  EXPECT_EQ(*store_->get(k("x/empty")), "");
  EXPECT_EQ(*store_->size(k("x/bin")), 5u);
  ASSERT_TRUE(store_->put(k("x/bin"), "replaced").is_ok());
  EXPECT_EQ(*store_->get(k("x/bin")), "replaced");
}

TEST_P(StoreContract, MissingKeyIsNotFound) {
  auto g = store_->get(k("nope"));
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code(), core::StatusCode::kNotFound) << g.error().to_string();
  auto s = store_->size(k("nope"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::StatusCode::kNotFound) << s.error().to_string();
}

TEST_P(StoreContract, RangeReads) {
  ASSERT_TRUE(store_->put(k("r"), "0123456789").is_ok());
  EXPECT_EQ(*store_->get(k("r"), ByteRange{2, 3}), "234");
  EXPECT_EQ(*store_->get(k("r"), ByteRange{7, std::nullopt}), "789");
  EXPECT_EQ(*store_->get(k("r"), ByteRange{8, 100}), "89");
  EXPECT_EQ(*store_->get(k("r"), ByteRange{20, 5}), "");
  EXPECT_EQ(*store_->get(k("r"), ByteRange{0, 0}), "");
}

TEST_P(StoreContract, PutIfAbsentRefusesAnExistingKeyAndKeepsTheFirst) {
  ASSERT_TRUE(store_->put_if_absent(k("_delta_log/00000000000000000000.json"), "first").is_ok());
  core::Status s = store_->put_if_absent(k("_delta_log/00000000000000000000.json"), "second");
  EXPECT_EQ(s.code(), core::StatusCode::kAlreadyExists) << s.to_string();
  EXPECT_EQ(*store_->get(k("_delta_log/00000000000000000000.json")), "first");
}

TEST_P(StoreContract, ListsByStringPrefixInKeyOrderAfterStartAfter) {
  for (const char* key : {"t/dt=2024-01-02/part 1.json", "t/dt=2024-01-01/a+b=c.json",
                          "t/_delta_log/00000000000000000001.json",
                          "t/_delta_log/00000000000000000000.json", "u/other"}) {
    ASSERT_TRUE(store_->put(k(key), key).is_ok()) << key;
  }
  auto all = store_->list(k("t/"));
  ASSERT_TRUE(all.has_value()) << all.error().to_string();
  std::vector<std::string> keys;
  for (const auto& o : *all) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{k("t/_delta_log/00000000000000000000.json"),
                                            k("t/_delta_log/00000000000000000001.json"),
                                            k("t/dt=2024-01-01/a+b=c.json"),
                                            k("t/dt=2024-01-02/part 1.json")}));
  EXPECT_EQ(all->front().size, 38u);  // the content is the key without the test prefix
  // Each object's modification time (VACUUM tells old orphans from new files by it).
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& o : *all)
    EXPECT_NEAR(static_cast<double>(o.modified_ms), static_cast<double>(now_ms), 600e3) << o.key;
  auto log = store_->list(k("t/_delta_log/0000"), k("t/_delta_log/00000000000000000000.json"));
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].key, k("t/_delta_log/00000000000000000001.json"));
  EXPECT_TRUE(store_->list(k("none/"))->empty());
}

TEST_P(StoreContract, ListFollowsPagesToTheEnd) {
  auto paged = GetParam().make(7);
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p/%02d", i);
    ASSERT_TRUE(paged->put(k(name), "x").is_ok());
  }
  auto all = paged->list(k("p/"));
  ASSERT_TRUE(all.has_value()) << all.error().to_string();
  ASSERT_EQ(all->size(), 20u);
  EXPECT_EQ(all->back().key, k("p/19"));
}

TEST_P(StoreContract, RemoveAndRemoveManyAndMissingIsFine) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) keys.push_back(k("d/" + std::to_string(i)));
  for (const auto& key : keys) ASSERT_TRUE(store_->put(key, "v").is_ok());
  ASSERT_TRUE(store_->remove(keys[0]).is_ok());
  ASSERT_TRUE(store_->remove(keys[0]).is_ok());
  keys.push_back(k("d/never-there"));
  ASSERT_TRUE(store_->remove_many(keys).is_ok());
  EXPECT_TRUE(store_->list(k("d/"))->empty());
  EXPECT_TRUE(store_->remove_many({}).is_ok());
}

TEST_P(StoreContract, CheckPassesOnAUsableStore) { EXPECT_TRUE(store_->check().is_ok()); }

}  // namespace pinstream::connectors::objstore
