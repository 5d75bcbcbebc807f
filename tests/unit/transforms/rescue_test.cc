// `rescue: true`: the fields a record has beyond `input` are kept in `_rescued_data` as a JSON
// object of their values as written; null when there are none.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {

std::unique_ptr<Cleaner> cleaner(bool rescue) {
  static core::ConfigNode root = *core::parse_config_text(
      "input: {ind: long, name: string}\nsteps: [{rename: {name: first_name}}]\n", "s.yaml");
  auto c = Cleaner::build(*root.find("input"), root.find("steps"), "ind", 1 << 20, rescue);
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c ? std::move(*c) : nullptr;
}

TEST(Rescue, UnexpectedFieldsBecomeAJsonObjectInTheLastColumn) {
  auto c = cleaner(true);
  ASSERT_TRUE(c);
  const core::Schema& s = c->output_schema();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.field(2).name, "_rescued_data");
  EXPECT_EQ(s.field(2).type, core::Type::kString);
  EXPECT_TRUE(s.field(2).nullable);
  core::Row row;
  ASSERT_TRUE(c->clean(R"({"ind": 7, "x": 1.50, "name": "a", "q\"k": "t\u00e9\n",)"
                       R"( "o": {"a": [1, null]}, "b": true, "n": null})",
                       row)
                  .is_ok());
  EXPECT_EQ(row[0].i, 7);
  EXPECT_EQ(row[1].s, "a");
  ASSERT_EQ(row[2].type, core::Type::kString);
  EXPECT_EQ(row[2].s, R"({"x":1.50,"q\"k":"t\u00e9\n","o":{"a": [1, null]},"b":true,"n":null})");
  EXPECT_EQ(nlohmann::json::parse(row[2].s)["q\"k"], "t\u00e9\n");
  // Nothing unexpected: null (the cell is reused from the previous record).
  ASSERT_TRUE(c->clean(R"({"ind": 8, "name": "b"})", row).is_ok());
  EXPECT_EQ(row[2].type, core::Type::kNull);
  // An unexpected field must still be valid JSON.
  EXPECT_FALSE(c->clean(R"({"ind": 9, "x": [1,})", row).is_ok());
}

TEST(Rescue, WithoutRescueTheFieldsAreIgnored) {
  auto c = cleaner(false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->output_schema().size(), 2u);
  core::Row row;
  ASSERT_TRUE(c->clean(R"({"ind": 7, "x": 1})", row).is_ok());
  EXPECT_EQ(row.size(), 2u);
}

}  // namespace
}  // namespace pinstream::transforms
