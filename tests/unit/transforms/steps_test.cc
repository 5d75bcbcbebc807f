// Table-driven step tests: a YAML `steps:` list + an input row -> the output schema and
// row, a per-record error, or a config error (with file:line:col).
#include "transforms/steps.h"

#include <gtest/gtest.h>

#include "stream/core/time.h"
#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {
using core::Value;
using T = core::Type;

struct Case {
  const char* name;
  const char* steps;  // a YAML list
  core::Schema in;
  core::Row row;
  std::string want_schema;        // Schema::to_string of the output
  core::Row want;                 // the output row
  std::string record_error = "";  // or: the per-record error apply() returns
};

struct ConfigCase {
  const char* name;
  const char* steps;
  core::Schema in;
  std::string error;  // the exact config error
};

core::Schema S(std::vector<core::Field> f) { return core::Schema(std::move(f)); }
Value L(int64_t v) { return Value::of_long(v); }
Value D(double v) { return Value::of_double(v); }
Value Str(const char* v) { return Value::of_string(v); }
Value Ts(const char* v) { return Value::of_timestamp(*core::parse_timestamp(v)); }
const Value N;

const core::Schema kAB = S({{"a", T::kLong}, {"b", T::kString}});

TEST(Steps, EachKindTransformsRowsAsConfigured) {
  std::vector<Case> cases = {
      {"rename", "- rename: {index: ind}", S({{"index", T::kLong}}), {L(1)}, "ind:long", {L(1)}},
      {"rename several",
       "- rename: {a: x, b: y}",
       kAB,
       {L(1), Str("s")},
       "x:long, y:string",
       {L(1), Str("s")}},
      {"drop", "- drop: [b]", kAB, {L(1), Str("x")}, "a:long", {L(1)}},
      {"drop a scalar", "- drop: a", kAB, {L(1), Str("x")}, "b:string", {Str("x")}},
      {"select reorders",
       "- select: [b, a]",
       kAB,
       {L(1), Str("x")},
       "b:string, a:long",
       {Str("x"), L(1)}},
      {"select subset", "- select: [b]", kAB, {L(1), Str("x")}, "b:string", {Str("x")}},
      {"cast string to long",
       "- cast: {b: long}",
       kAB,
       {L(1), Str("20")},
       "a:long, b:long",
       {L(1), L(20)}},
      {"cast timestamp both formats",
       "- cast: {t: timestamp, u: timestamp}",
       S({{"t", T::kString}, {"u", T::kString}}),
       {Str("2020-08-28 03:52:47"), Str("2020-08-28T03:52:47")},
       "t:timestamp, u:timestamp",
       {Ts("2020-08-28 03:52:47"), Ts("2020-08-28 03:52:47")}},
      {"cast null stays null",
       "- cast: {b: double}",
       kAB,
       {L(1), N},
       "a:long, b:double",
       {L(1), N}},
      {"cast failure is a record error",
       "- cast: {t: timestamp}",
       S({{"t", T::kString}}),
       {Str("soon")},
       "t:timestamp",
       {},
       "field 't': \"soon\" is not a timestamp (expected YYYY-MM-DD HH:MM:SS or ISO-8601)"},
      {"cast failure names the renamed column",
       "- rename: {b: n}\n- cast: {n: long}",
       kAB,
       {L(1), Str("x1")},
       "a:long, n:long",
       {},
       "field 'n': \"x1\" is not an integer"},
      {"null_if placeholders and empties",
       "- null_if: {empty_strings: true, values: {a: [N/A, '-']}}",
       S({{"a", T::kString}, {"b", T::kString}, {"c", T::kString}}),
       {Str("N/A"), Str(""), Str("keep")},
       "a:string, b:string, c:string",
       {N, N, Str("keep")}},
      {"null_if second placeholder",
       "- null_if: {values: {a: [N/A, '-']}}",
       S({{"a", T::kString}, {"b", T::kString}}),
       {Str("-"), Str("")},
       "a:string, b:string",
       {N, Str("")}},
      {"null_if is exact, not a substring",
       "- null_if: {values: {a: [Untitled]}}",
       S({{"a", T::kString}}),
       {Str("Untitled 2")},
       "a:string",
       {Str("Untitled 2")}},
      {"null_if empty_strings only touches strings",
       "- null_if: {empty_strings: true}",
       kAB,
       {L(0), Str("")},
       "a:long, b:string",
       {L(0), N}},
      {"parse_count k",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {Str("985k")},
       "f:long",
       {L(985000)}},
      {"parse_count M",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {Str("3M")},
       "f:long",
       {L(3000000)}},
      {"parse_count digits",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {Str("718")},
       "f:long",
       {L(718)}},
      {"parse_count junk is null",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {Str("12x")},
       "f:long",
       {N}},
      {"parse_count placeholder is null",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {Str("User Info Error")},
       "f:long",
       {N}},
      {"parse_count null stays null",
       "- parse_count: {column: f}",
       S({{"f", T::kString}}),
       {N},
       "f:long",
       {N}},
      {"strip_prefix",
       "- strip_prefix: {column: s, prefix: 'Local save in '}",
       S({{"s", T::kString}}),
       {Str("Local save in /data/art")},
       "s:string",
       {Str("/data/art")}},
      {"strip_prefix keeps other values",
       "- strip_prefix: {column: s, prefix: 'Local save in '}",
       S({{"s", T::kString}}),
       {Str("/x Local save in ")},
       "s:string",
       {Str("/x Local save in ")}},
      {"concat",
       "- concat: {columns: [a, b], separator: ' ', into: n}",
       S({{"a", T::kString}, {"b", T::kString}}),
       {Str("Ada"), Str("Lovelace")},
       "a:string, b:string, n:string",
       {Str("Ada"), Str("Lovelace"), Str("Ada Lovelace")}},
      {"concat without separator",
       "- concat: {columns: [a, b], into: n}",
       S({{"a", T::kString}, {"b", T::kString}}),
       {Str("x"), Str("y")},
       "a:string, b:string, n:string",
       {Str("x"), Str("y"), Str("xy")}},
      {"concat null part",
       "- concat: {columns: [a, b], separator: ' ', into: n}",
       S({{"a", T::kString}, {"b", T::kString}}),
       {Str("Ada"), N},
       "a:string, b:string, n:string",
       {Str("Ada"), N, N}},
      {"make_array",
       "- make_array: {columns: [x, y], into: c}",
       S({{"x", T::kDouble}, {"y", T::kLong}}),
       {D(1.5), L(-2)},
       "x:double, y:long, c:array<double>",
       {D(1.5), L(-2), Value::of_array({1.5, -2.0})}},
      {"make_array all null",
       "- make_array: {columns: [x, y], into: c}",
       S({{"x", T::kDouble}, {"y", T::kDouble}}),
       {N, N},
       "x:double, y:double, c:array<double>",
       {N, N, N}},
      {"bucket",
       "- bucket: {column: age, into: g, ranges: [{label: '18-24', min: 18, max: 24}, {label: "
       "'+50', min: 51}]}",
       S({{"age", T::kLong}}),
       {L(60)},
       "age:long, g:string",
       {L(60), Str("+50")}},
      {"bucket bounds are inclusive",
       "- bucket: {column: age, into: g, ranges: [{label: '18-24', min: 18, max: 24}]}",
       S({{"age", T::kLong}}),
       {L(24)},
       "age:long, g:string",
       {L(24), Str("18-24")}},
      {"bucket no match",
       "- bucket: {column: age, into: g, ranges: [{label: '18-24', min: 18, max: 24}]}",
       S({{"age", T::kLong}}),
       {L(30)},
       "age:long, g:string",
       {L(30), N}},
      {"bucket null",
       "- bucket: {column: age, into: g, ranges: [{label: low, max: 10}]}",
       S({{"age", T::kLong}}),
       {N},
       "age:long, g:string",
       {N, N}},
      {"year",
       "- year: {column: t, into: y}",
       S({{"t", T::kTimestamp}}),
       {Ts("2019-12-31 23:59:59")},
       "t:timestamp, y:long",
       {Ts("2019-12-31 23:59:59"), L(2019)}},
      {"year of null",
       "- year: {column: t, into: y}",
       S({{"t", T::kTimestamp}}),
       {N},
       "t:timestamp, y:long",
       {N, N}},
      {"a chain: derived column, then select",
       "- concat: {columns: [b, b], into: bb}\n- select: [bb, a]",
       kAB,
       {L(3), Str("z")},
       "bb:string, a:long",
       {Str("zz"), L(3)}},
      {"no steps", "[]", kAB, {L(3), Str("z")}, "a:long, b:string", {L(3), Str("z")}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto root = core::parse_config_text(c.steps, "steps.yaml");
    ASSERT_TRUE(root.has_value()) << root.error().message();
    auto chain = StepChain::build(&*root, c.in);
    ASSERT_TRUE(chain.has_value()) << chain.error().message();
    EXPECT_EQ(chain->output_schema().to_string(), c.want_schema);
    core::Row row = c.row;
    core::Status st = chain->apply(row);
    if (!c.record_error.empty()) {
      EXPECT_EQ(st.message(), c.record_error);
      continue;
    }
    ASSERT_TRUE(st.is_ok()) << st.message();
    ASSERT_EQ(row.size(), c.want.size());
    for (size_t i = 0; i < row.size(); ++i)
      EXPECT_EQ(row[i], c.want[i]) << "column " << i << ": " << row[i].to_string();
  }
}

TEST(Steps, ConfigErrorsNameFileLineColumnAndKey) {
  std::vector<ConfigCase> cases = {
      {"unknown step", "- frobnicate: {}", kAB,
       "steps.yaml:1:3: key '[0]': unknown step 'frobnicate' (known: bucket, cast, concat, drop, "
       "make_array, "
       "null_if, parse_count, rename, select, strip_prefix, year)"},
      {"two kinds in one item", "- {drop: [a], select: [b]}", kAB,
       "steps.yaml:1:3: key '[0]': a step is a map with one key, its kind (e.g. `- rename: {index: "
       "ind}`)"},
      {"unknown column", "- drop: [zz]", kAB,
       "steps.yaml:1:9: key '[0].drop': unknown column 'zz' (columns: a:long, b:string)"},
      {"unknown key", "- strip_prefix: {column: b, prefix: x, prefx: y}", kAB,
       "steps.yaml:1:47: key '[0].strip_prefix.prefx': unknown key 'prefx'"},
      {"missing key", "- strip_prefix: {column: b}", kAB,
       "steps.yaml:1:17: key '[0].strip_prefix': missing required key 'prefix'"},
      {"rename clash", "- rename: {a: b}", kAB,
       "steps.yaml:1:15: key '[0].rename.a': column 'b' already exists"},
      {"select twice", "- select: [a, a]", kAB,
       "steps.yaml:1:11: key '[0].select': column 'a' listed twice"},
      {"column gone after drop", "- drop: [b]\n- parse_count: {column: b}", kAB,
       "steps.yaml:2:25: key '[1].parse_count.column': unknown column 'b' (columns: a:long)"},
      {"parse_count of a long", "- parse_count: {column: a}", kAB,
       "steps.yaml:1:25: key '[0].parse_count.column': column 'a' is long, expected string"},
      {"cast to an unknown type", "- cast: {a: widget}", kAB,
       "steps.yaml:1:13: key '[0].cast.a': cannot cast to 'widget' (long, double, string, bool, "
       "timestamp)"},
      {"null_if values on a long", "- null_if: {values: {a: ['0']}}", kAB,
       "steps.yaml:1:25: key '[0].null_if.values.a': column 'a' is long, expected string"},
      {"null_if unknown key", "- null_if: {empty_string: true}", kAB,
       "steps.yaml:1:27: key '[0].null_if.empty_string': unknown key 'empty_string'"},
      {"concat into an existing column", "- concat: {columns: [b], into: a}", kAB,
       "steps.yaml:1:32: key '[0].concat.into': column 'a' already exists"},
      {"make_array of a string", "- make_array: {columns: [a, b], into: c}", kAB,
       "steps.yaml:1:25: key '[0].make_array.columns': column 'b' is string, expected double or "
       "long"},
      {"bucket range unknown key", "- bucket: {column: a, into: g, ranges: [{label: x, mni: 1}]}",
       kAB, "steps.yaml:1:57: key '[0].bucket.ranges[0].mni': unknown key 'mni'"},
      {"bucket min above max",
       "- bucket: {column: a, into: g, ranges: [{label: x, min: 5, max: 1}]}", kAB,
       "steps.yaml:1:41: key '[0].bucket.ranges[0]': min is greater than max"},
      {"year of a string", "- year: {column: b, into: y}", kAB,
       "steps.yaml:1:18: key '[0].year.column': column 'b' is string, expected timestamp"},
      {"steps not a list", "drop: [a]", kAB,
       "steps.yaml:1:1: key '<root>': expected a list of steps"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto root = core::parse_config_text(c.steps, "steps.yaml");
    ASSERT_TRUE(root.has_value()) << root.error().message();
    auto chain = StepChain::build(&*root, c.in);
    ASSERT_FALSE(chain.has_value());
    EXPECT_EQ(chain.error().message(), c.error);
  }
}

TEST(Steps, DeriveStepsOfTheDefaultJoin) {
  const char* derive = R"(
- bucket:
    column: age
    into: age_group
    ranges:
      - {label: "18-24", min: 18, max: 24}
      - {label: "25-35", min: 25, max: 35}
      - {label: "36-50", min: 36, max: 50}
      - {label: "+50", min: 51}
- year: {column: timestamp, into: post_year}
- year: {column: date_joined, into: join_year}
)";
  auto root = core::parse_config_text(derive, "pipeline.yaml");
  ASSERT_TRUE(root.has_value());
  auto chain = StepChain::build(&*root, S({{"ind", T::kLong},
                                           {"age", T::kLong},
                                           {"timestamp", T::kTimestamp},
                                           {"date_joined", T::kTimestamp}}));
  ASSERT_TRUE(chain.has_value()) << chain.error().message();
  EXPECT_EQ(chain->output_schema().to_string(),
            "ind:long, age:long, timestamp:timestamp, date_joined:timestamp, age_group:string, "
            "post_year:long, "
            "join_year:long");
  struct AgeCase {
    int64_t age;
    Value group;
  };
  for (auto [age, group] : std::vector<AgeCase>{{17, N},
                                                {18, Str("18-24")},
                                                {24, Str("18-24")},
                                                {25, Str("25-35")},
                                                {35, Str("25-35")},
                                                {36, Str("36-50")},
                                                {50, Str("36-50")},
                                                {51, Str("+50")},
                                                {99, Str("+50")}}) {
    core::Row row = {L(1), L(age), Ts("2022-01-01 00:00:00"), Ts("2015-12-31T23:59:59")};
    ASSERT_TRUE(chain->apply(row).is_ok());
    ASSERT_EQ(row.size(), 7u);
    EXPECT_EQ(row[4], group) << age;
    EXPECT_EQ(row[5], L(2022));
    EXPECT_EQ(row[6], L(2015));
  }
  // The same chain is reusable on a row that already holds the output width (reused rows).
  core::Row row = {L(1), N, N, N};
  ASSERT_TRUE(chain->apply(row).is_ok());
  EXPECT_TRUE(row[4].is_null() && row[5].is_null() && row[6].is_null());
}

TEST(ParseCount, NeverStripsLettersIntoSmallerNumbers) {
  EXPECT_EQ(parse_count("985k"), 985000);
  EXPECT_EQ(parse_count("15M"), 15000000);
  EXPECT_EQ(parse_count("0"), 0);
  EXPECT_EQ(parse_count("9223372036854775807"), INT64_MAX);
  for (const char* bad :
       {"", "k", "M", "1.5k", "12K", "12m", "-3", "+3", " 3", "3 ", "User Info Error", "1 000",
        "9223372036854775808", "9999999999999999k", "9223372036854776M", "kk", "3kM"})
    EXPECT_FALSE(parse_count(bad).has_value()) << bad;
}

}  // namespace
}  // namespace pinstream::transforms
