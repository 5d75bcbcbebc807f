// Test fixture for aggregates and views: a "posts"-like joined + derived schema, a row
// builder, and helpers to parse YAML config and commit an epoch.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "state/aggregates.h"
#include "stream/core/config.h"
#include "stream/core/time.h"

namespace pinstream::state::test {

inline core::Schema posts_schema() {
  using core::Type;
  return core::Schema({{"ind", Type::kLong, false},
                       {"category", Type::kString, true},
                       {"poster_name", Type::kString, true},
                       {"follower_count", Type::kLong, true},
                       {"country", Type::kString, true},
                       {"timestamp", Type::kTimestamp, true},
                       {"age", Type::kLong, true},
                       {"age_group", Type::kString, true},
                       {"post_year", Type::kLong, true},
                       {"join_year", Type::kLong, true}});
}

struct Post {
  int64_t ind = 0;
  std::optional<std::string> category, poster_name;
  std::optional<int64_t> follower_count;
  std::optional<std::string> country;
  std::optional<std::string> timestamp;  // "YYYY-MM-DD HH:MM:SS"
  std::optional<int64_t> age;
  std::optional<std::string> age_group;
  std::optional<int64_t> post_year, join_year;
};

inline core::Row row_of(const Post& p) {
  core::Row r(10);
  r[0].set_long(p.ind);
  if (p.category) r[1].set_string(*p.category);
  if (p.poster_name) r[2].set_string(*p.poster_name);
  if (p.follower_count) r[3].set_long(*p.follower_count);
  if (p.country) r[4].set_string(*p.country);
  if (p.timestamp) {
    core::Value v = core::Value::of_string(*p.timestamp);
    EXPECT_TRUE(core::coerce(v, core::Type::kTimestamp).is_ok()) << *p.timestamp;
    r[5] = v;
  }
  if (p.age) r[6].set_long(*p.age);
  if (p.age_group) r[7].set_string(*p.age_group);
  if (p.post_year) r[8].set_long(*p.post_year);
  if (p.join_year) r[9].set_long(*p.join_year);
  return r;
}

inline core::ConfigNode parse(const std::string& yaml, const std::string& name = "test.yaml") {
  auto n = core::parse_config_text(yaml, name);
  EXPECT_TRUE(n.has_value()) << n.error().to_string();
  return n.has_value() ? std::move(n).value() : core::ConfigNode();
}

inline int64_t ts(const std::string& text) {
  core::Value v = core::Value::of_string(text);
  EXPECT_TRUE(core::coerce(v, core::Type::kTimestamp).is_ok());
  return v.i;
}

inline void commit(StateStore& store, Aggregates& aggs) {
  StateStore::WriteBatch b;
  aggs.flush(b);
  ASSERT_TRUE(store.write(b).is_ok());
}

}  // namespace pinstream::state::test
