// The decoder matches a record's field names to `input:` without memcmp (json_decoder.cc):
// names of the same length that differ in any one byte, at every length the comparison
// handles in its own way (under 8 bytes, exactly 8, over 8 and not a multiple of it), each
// land in their own column, in any order.
#include <gtest/gtest.h>

#include "stream/core/config.h"
#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {

TEST(FieldNames, NamesOfOneLengthThatDifferInOneByteEachKeepTheirOwnValue) {
  core::ConfigNode root = *core::parse_config_text(
      "input: {ind: long, ab: string, aX: string, abcd: string, abXd: string,"
      " abcdefgh: string, abcdefgX: string, abcdefghijklmnopq: string,"
      " abcdefghXjklmnopq: string, abcdefghijklmnopX: string}\n",
      "names.yaml");
  auto c = Cleaner::build(*root.find("input"), nullptr, "ind", 1 << 20);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const std::vector<std::string> names = {"ab",
                                          "aX",
                                          "abcd",
                                          "abXd",
                                          "abcdefgh",
                                          "abcdefgX",
                                          "abcdefghijklmnopq",
                                          "abcdefghXjklmnopq",
                                          "abcdefghijklmnopX"};
  // In input order, then reversed (the lookup's hint then misses at every field).
  for (bool reversed : {false, true}) {
    std::string json = "{\"ind\": 1";
    for (size_t k = 0; k < names.size(); ++k) {
      const size_t i = reversed ? names.size() - 1 - k : k;
      json += ", \"" + names[i] + "\": \"v" + std::to_string(i) + "\"";
    }
    json += "}";
    core::Row row;
    ASSERT_TRUE((*c)->clean(json, row).is_ok()) << json;
    ASSERT_EQ(row.size(), names.size() + 1);
    for (size_t i = 0; i < names.size(); ++i)
      EXPECT_EQ(row[i + 1], core::Value::of_string("v" + std::to_string(i)))
          << names[i] << (reversed ? " (reversed)" : "");
  }
  // A name one byte away from every input name is not taken for any of them.
  core::Row row;
  ASSERT_TRUE(
      (*c)->clean("{\"ind\": 1, \"abcdefghijklmnopZ\": \"x\", \"aZ\": \"y\"}", row).is_ok());
  for (size_t i = 1; i < row.size(); ++i) EXPECT_TRUE(row[i].is_null()) << names[i - 1];
}

}  // namespace
}  // namespace pinstream::transforms
