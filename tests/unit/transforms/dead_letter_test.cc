// Every class of record that cannot be cleaned becomes a dead letter with an exact reason,
// and config errors name file:line:col and the key.
#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {

const char* kUserInput = R"(input:
  ind: long
  first_name: string
  last_name: string
  age: long
  date_joined: timestamp
  extra: any
)";

std::unique_ptr<Cleaner> user_cleaner(size_t max_bytes = 1 << 20) {
  static core::ConfigNode root = *core::parse_config_text(kUserInput, "user.yaml");
  auto c = Cleaner::build(*root.find("input"), nullptr, "ind", max_bytes);
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c ? std::move(*c) : nullptr;
}

struct Case {
  std::string raw;
  std::string reason;  // the exact dead-letter reason
};

void expect_reasons(Cleaner& cleaner, const std::vector<Case>& cases) {
  core::Row row;
  for (const auto& c : cases) {
    core::Status st = cleaner.clean(c.raw, row);
    EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument) << c.raw;
    EXPECT_EQ(st.message(), c.reason) << "raw: " << c.raw;
  }
}

const std::string kRest =
    R"("first_name": "A", "last_name": "B", "age": 20, "date_joined": "2015-10-21 21:26:45"})";

TEST(DeadLetters, MalformedJsonIsInvalidJson) {
  auto c = user_cleaner();
  expect_reasons(
      *c, {
              {"", "invalid JSON: Empty: no JSON found"},
              {"{\"ind\": 1, ",
               "invalid JSON: JSON document ended early in the middle of an object or array."},
              {"not json at all",
               "invalid JSON: Problem while parsing an atom starting with the letter 'n'"},
              {R"({"ind": 1, "age": 20} trailing)",
               "invalid JSON: JSON document ended early in the middle of an object or array."},
              {R"({"ind": 1, "age": 20}})", "invalid JSON: content after the object"},
              {R"({"ind": 1} {"ind": 2})", "invalid JSON: content after the object"},
              {R"({"ind": 1, "unknown": [1, tru]})",
               "invalid JSON: The JSON element does not have the requested type."},
              {R"({"ind": 1, "unknown": "bad \q escape"})",
               "invalid JSON: Problem while parsing a string"},
              {R"({"ind": 01})", "invalid JSON: Problem while parsing a number"},
              {R"({"ind": 1, "extra": [1, 2,, 3]})",
               "invalid JSON: The JSON document has an improper structure: missing or superfluous "
               "commas, braces, missing keys, etc."},
          });
}

TEST(DeadLetters, InvalidUtf8IsRejectedBeforeParsing) {
  auto c = user_cleaner();
  expect_reasons(
      *c, {
              {"{\"ind\": 1, \"first_name\": \"\xff\xfe\"}", "invalid UTF-8"},
              {"{\"ind\": 1, \"first_name\": \"\xc3\"}", "invalid UTF-8"},  // truncated sequence
              {"{\"ind\": 1, \"first_name\": \"\xed\xa0\x80\"}", "invalid UTF-8"},  // a surrogate
              {"\xff{}", "invalid UTF-8"},
          });
}

// Invalid UTF-8 anywhere (a skipped field, a key, beside another fault) is the reason given.
TEST(DeadLetters, InvalidUtf8AnywhereIsTheReason) {
  auto c = user_cleaner();
  expect_reasons(
      *c, {
              {"{\"ind\": 1, \"not_declared\": \"\xff\"}", "invalid UTF-8"},
              {"{\"ind\": 1, \"not_declared\": [\"a\", {\"b\": \"\xc3\"}]}", "invalid UTF-8"},
              {"{\"ind\": 1, \"\xff\": 2}", "invalid UTF-8"},
              {"{\"ind\": 1, \"first_name\": \"\xff", "invalid UTF-8"},  // unclosed too
              {"{\"ind\": \"x\", \"first_name\": \"\xff\"}", "invalid UTF-8"},
              {"[\"\xff\"]", "invalid UTF-8"},
              {"{\"ind\": 1} \xff", "invalid UTF-8"},
          });
}

TEST(DeadLetters, ARecordMustBeAnObject) {
  auto c = user_cleaner();
  expect_reasons(*c, {
                         {"[1, 2]", "not a JSON object"},
                         {"[]", "not a JSON object"},
                         {"\"just a string\"", "not a JSON object"},
                         {"42", "not a JSON object"},
                         {"-1.5e3", "not a JSON object"},
                         {"null", "not a JSON object"},
                         {"true", "not a JSON object"},
                     });
}

TEST(DeadLetters, KeyMustBePresentNonNullAndAnInteger) {
  auto c = user_cleaner();
  expect_reasons(*c,
                 {
                     {"{" + kRest, "key 'ind' is missing"},
                     {"{}", "key 'ind' is missing"},
                     {"{\"ind\": null, " + kRest, "key 'ind' is null"},
                     {"{\"ind\": \"abc\", " + kRest, "field 'ind': \"abc\" is not an integer"},
                     {"{\"ind\": true, " + kRest, "field 'ind': true is not an integer"},
                     {"{\"ind\": 1.5, " + kRest, "field 'ind': 1.5 is not an integer (fractional)"},
                     {"{\"ind\": 99999999999999999999, " + kRest,
                      "field 'ind': 99999999999999999999 is out of range for long"},
                     {"{\"ind\": 9223372036854775808, " + kRest,
                      "field 'ind': 9223372036854775808 is out of range for long"},
                     {"{\"ind\": -9223372036854775809, " + kRest,
                      "field 'ind': -9223372036854775809 is out of range for long"},
                     {"{\"ind\": 1e300, " + kRest, "field 'ind': 1e+300 is out of range for long"},
                     {"{\"ind\": \"99999999999999999999\", " + kRest,
                      "field 'ind': \"99999999999999999999\" is out of range for long"},
                     {"{\"ind\": [1], " + kRest, "field 'ind': an array is not a long"},
                 });
}

TEST(DeadLetters, WrongTypedFieldsNameTheFieldAndValue) {
  auto c = user_cleaner();
  expect_reasons(
      *c,
      {
          {R"({"ind": 1, "age": "twenty"})", "field 'age': \"twenty\" is not an integer"},
          {R"({"ind": 1, "age": 20.5})", "field 'age': 20.5 is not an integer (fractional)"},
          {R"({"ind": 1, "first_name": 7})", "field 'first_name': 7 is not a string"},
          {R"({"ind": 1, "first_name": false})", "field 'first_name': false is not a string"},
          {R"({"ind": 1, "first_name": {"x": 1}})",
           "field 'first_name': an object is not a string"},
          {R"({"ind": 1, "first_name": ["A"]})", "field 'first_name': an array is not a string"},
          {R"({"ind": 1, "date_joined": "yesterday"})",
           "field 'date_joined': \"yesterday\" is not a timestamp (expected YYYY-MM-DD HH:MM:SS or "
           "ISO-8601)"},
          {R"({"ind": 1, "date_joined": "2015-02-30 00:00:00"})",
           "field 'date_joined': \"2015-02-30 00:00:00\" is not a timestamp (expected YYYY-MM-DD "
           "HH:MM:SS or ISO-8601)"},
          {R"({"ind": 1, "date_joined": true})",
           "field 'date_joined': true is not a timestamp (expected YYYY-MM-DD HH:MM:SS or "
           "ISO-8601)"},
      });
}

TEST(DeadLetters, OversizeRecordsAreRejectedFirst) {
  auto c = user_cleaner(200);
  std::string big = "{\"ind\": 1, \"first_name\": \"" + std::string(300, 'x') + "\"}";
  std::string big_invalid = "\xff" + std::string(300, '[');
  expect_reasons(*c, {
                         {big, "record of " + std::to_string(big.size()) +
                                   " bytes exceeds max_record_bytes 200"},
                         {big_invalid, "record of 301 bytes exceeds max_record_bytes 200"},
                     });
  core::Row row;
  std::string head = "{\"ind\": 1, \"first_name\": \"";
  std::string exact = head + std::string(200 - head.size() - 2, 'y') + "\"}";
  ASSERT_EQ(exact.size(), 200u);
  EXPECT_TRUE(c->clean(exact, row).is_ok());
}

TEST(DeadLetters, AGoodRecordStillCleansAfterEveryFailure) {
  auto c = user_cleaner();
  core::Row row;
  for (const char* bad : {"{\"ind\": 1, ", "[1]", "{\"ind\": \"x\"}", "{\"age\": 3}"}) {
    EXPECT_FALSE(c->clean(bad, row).is_ok());
    ASSERT_TRUE(c->clean("{\"ind\": 5, " + kRest, row).is_ok());
    EXPECT_EQ(row[0], core::Value::of_long(5));
    EXPECT_EQ(row[1], core::Value::of_string("A"));
    EXPECT_EQ(row[4].to_string(), "2015-10-21T21:26:45");
    EXPECT_TRUE(row[5].is_null());
  }
}

TEST(DeadLetters, ConvertibleValuesAreNotDeadLetters) {
  auto c = user_cleaner();
  core::Row row;
  ASSERT_TRUE(c->clean(R"({"ind": "17", "age": 30.0, "extra": {"a": [1, "b"]}})", row).is_ok());
  EXPECT_EQ(row[0], core::Value::of_long(17));
  EXPECT_EQ(row[3], core::Value::of_long(30));
  EXPECT_EQ(row[5], core::Value::of_string(R"({"a": [1, "b"]})"));  // `any` keeps nested JSON
  ASSERT_TRUE(
      c->clean(R"({"ind": 18, "extra": 2.5, "first_name": "Zo\u00eb \ud83d\ude00"})", row).is_ok());
  EXPECT_EQ(row[5], core::Value::of_double(2.5));
  EXPECT_EQ(row[1], core::Value::of_string("Zo\xc3\xab \xf0\x9f\x98\x80"));
}

TEST(CleanerConfig, ErrorsNameFileLineColumnAndKey) {
  struct ConfigCase {
    const char* yaml;
    const char* key;
    std::string error;
  };
  std::vector<ConfigCase> cases = {
      {"input: {ind: long, x: widget}\n", "ind",
       "c.yaml:1:23: key 'input.x': unknown input type 'widget' (long, double, string, bool, "
       "timestamp, any)"},
      {"input: {id: string}\n", "id",
       "c.yaml:1:8: key 'input': key column 'id' must be long, it is string"},
      {"input: {ind: long}\n", "key",
       "c.yaml:1:8: key 'input': key column 'key' is not among the cleaned columns (ind:long)"},
      {"input: [ind]\n", "ind", "c.yaml:1:8: key 'input': expected a map of raw field -> type"},
      {"input: {ind: long}\nsteps:\n  - drop: [ind]\n", "ind",
       "c.yaml:3:11: key 'steps[0].drop': drop would remove every column"},
      {"input: {index: long}\nsteps:\n  - rename: {idx: ind}\n", "ind",
       "c.yaml:3:19: key 'steps[0].rename.idx': unknown column 'idx' (columns: index:long)"},
      {"input: {ind: long}\nsteps:\n  - rename: {ind: ind2}\n", "ind",
       "c.yaml:1:8: key 'input': key column 'ind' is not among the cleaned columns (ind2:long)"},
  };
  for (const auto& k : cases) {
    auto root = core::parse_config_text(k.yaml, "c.yaml");
    ASSERT_TRUE(root.has_value()) << root.error().message();
    auto c = Cleaner::build(*root->find("input"), root->find("steps"), k.key, 100);
    ASSERT_FALSE(c.has_value()) << k.yaml;
    EXPECT_EQ(c.error().message(), k.error) << k.yaml;
  }
}

}  // namespace
}  // namespace pinstream::transforms
