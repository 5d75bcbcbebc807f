// Golden test: every real record of shared/data through the shipped pipeline's cleaners,
// each output column checked against expectations computed here, independently of the
// engine (nlohmann for JSON, timegm for timestamps, a regex for follower counts).
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "tests/support/test_support.h"
#include "transforms/cleaner.h"

namespace pinstream::transforms {
namespace {
using nlohmann::json;

// The cleaners of examples/pinterest/pipeline.yaml, built as the runtime builds them.
class DefaultPipeline {
 public:
  DefaultPipeline() {
    auto r = core::load_config_file(
        (testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (r) root_ = std::move(*r);
  }
  std::unique_ptr<Cleaner> cleaner(const std::string& stream) const {
    const core::ConfigNode* s = root_.find("streams")->find(stream);
    auto c = Cleaner::build(*s->find("input"), s->find("steps"), "ind", 1 << 20);
    EXPECT_TRUE(c.has_value()) << c.error().message();
    return c ? std::move(*c) : nullptr;
  }

 private:
  core::ConfigNode root_;
};

std::vector<std::string> lines_of(const std::string& stream) {
  return testing::read_lines(testing::shared_data_dir() / (stream + ".jsonl"));
}

// "2020-08-28 03:52:47" or "2020-08-28T03:52:47" -> microseconds since the epoch (UTC).
int64_t expected_micros(const std::string& text) {
  std::tm tm{};
  char sep = 0;
  EXPECT_EQ(std::sscanf(text.c_str(), "%d-%d-%d%c%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &sep, &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
            7)
      << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000;
}

// The value a string column should hold: null for "" and the listed placeholders.
core::Value text_or_null(const json& raw, const char* field,
                         std::vector<std::string> placeholders = {}) {
  std::string s = raw.at(field).get<std::string>();
  if (s.empty()) return core::Value();
  for (const auto& p : placeholders)
    if (s == p) return core::Value();
  return core::Value::of_string(s);
}

core::Value expected_count(const std::string& s) {
  static const std::regex form("^([0-9]+)([kM]?)$");
  std::smatch m;
  if (!std::regex_match(s, m, form)) return core::Value();
  int64_t n = std::stoll(m[1].str());
  if (m[2] == "k") n *= 1000;
  if (m[2] == "M") n *= 1000000;
  return core::Value::of_long(n);
}

std::vector<core::Value> expected_pin(const json& r) {
  std::string save = r.at("save_location").get<std::string>();
  const std::string prefix = "Local save in ";
  EXPECT_EQ(save.rfind(prefix, 0), 0u) << save;
  return {core::Value::of_long(r.at("index").get<int64_t>()),
          text_or_null(r, "unique_id"),
          text_or_null(r, "title", {"No Title Data Available"}),
          text_or_null(
              r, "description",
              {"No description available Story format", "No description available", "Untitled"}),
          expected_count(r.at("follower_count").get<std::string>()),
          text_or_null(r, "poster_name", {"User Info Error"}),
          text_or_null(r, "tag_list", {"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"}),
          text_or_null(r, "is_image_or_video"),
          text_or_null(r, "image_src", {"Image src error."}),
          core::Value::of_string(save.substr(prefix.size())),
          text_or_null(r, "category")};
}

std::vector<core::Value> expected_geo(const json& r) {
  return {core::Value::of_long(r.at("ind").get<int64_t>()), text_or_null(r, "country"),
          core::Value::of_array({r.at("latitude").get<double>(), r.at("longitude").get<double>()}),
          core::Value::of_timestamp(expected_micros(r.at("timestamp").get<std::string>()))};
}

std::vector<core::Value> expected_user(const json& r) {
  return {core::Value::of_long(r.at("ind").get<int64_t>()),
          core::Value::of_string(r.at("first_name").get<std::string>() + " " +
                                 r.at("last_name").get<std::string>()),
          core::Value::of_long(r.at("age").get<int64_t>()),
          core::Value::of_timestamp(expected_micros(r.at("date_joined").get<std::string>()))};
}

std::vector<std::string> names(const core::Schema& s) {
  std::vector<std::string> out;
  for (const auto& f : s.fields()) out.push_back(f.name);
  return out;
}

TEST(CleanerGolden, OutputColumnsAreExactlyTheSpecColumnsInOrder) {
  DefaultPipeline p;
  EXPECT_EQ(p.cleaner("pin")->output_schema().to_string(),
            "ind:long, unique_id:string, title:string, description:string, follower_count:long, "
            "poster_name:string, tag_list:string, is_image_or_video:string, image_src:string, "
            "save_location:string, category:string");
  EXPECT_EQ(p.cleaner("geo")->output_schema().to_string(),
            "ind:long, country:string, coordinates:array<double>, timestamp:timestamp");
  EXPECT_EQ(p.cleaner("user")->output_schema().to_string(),
            "ind:long, user_name:string, age:long, date_joined:timestamp");
  EXPECT_EQ(p.cleaner("pin")->key_index(), 0);
}

void check_every_line(const std::string& stream, std::vector<core::Value> (*expected)(const json&),
                      size_t min_lines) {
  DefaultPipeline p;
  auto cleaner = p.cleaner(stream);
  ASSERT_TRUE(cleaner);
  auto lines = lines_of(stream);
  ASSERT_GE(lines.size(), min_lines);
  std::vector<std::string> columns = names(cleaner->output_schema());
  core::Row row;  // reused, as the runtime does
  for (const auto& line : lines) {
    core::Status st = cleaner->clean(line, row);
    ASSERT_TRUE(st.is_ok()) << st.message() << "\n" << line;
    std::vector<core::Value> want = expected(json::parse(line));
    ASSERT_EQ(row.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(row[i], want[i]) << stream << "." << columns[i] << " got " << row[i].to_string()
                                 << " want " << want[i].to_string() << "\n"
                                 << line;
  }
}

TEST(CleanerGolden, EveryPinRecordMatchesIndependentExpectations) {
  check_every_line("pin", expected_pin, 3866);
}
TEST(CleanerGolden, EveryGeoRecordMatchesIndependentExpectations) {
  check_every_line("geo", expected_geo, 3698);
}
TEST(CleanerGolden, EveryUserRecordMatchesIndependentExpectations) {
  check_every_line("user", expected_user, 4772);
}

TEST(CleanerGolden, PinPlaceholderCountsMatchTheDataReadme) {
  DefaultPipeline p;
  auto cleaner = p.cleaner("pin");
  size_t titles = 0, empty_titles = 0, images = 0, posters = 0, counts = 0, tags = 0, thousands = 0,
         millions = 0, digits = 0, story = 0, with_prefix = 0;
  core::Row row;
  for (const auto& line : lines_of("pin")) {
    ASSERT_TRUE(cleaner->clean(line, row).is_ok()) << line;
    json raw = json::parse(line);
    titles += raw.at("title") == "No Title Data Available";
    empty_titles += raw.at("title") == "";
    EXPECT_EQ(row[2].is_null(),
              raw.at("title") == "No Title Data Available" || raw.at("title") == "");
    posters += row[5].is_null();
    counts += row[4].is_null();
    tags += row[6].is_null();
    images += row[8].is_null();
    story += row[7] == core::Value::of_string("multi-video(story page format)");
    with_prefix += row[9].s.starts_with("Local save in");
    std::string fc = raw.at("follower_count").get<std::string>();
    if (fc.ends_with("k"))
      ++thousands;
    else if (fc.ends_with("M"))
      ++millions;
    else if (!row[4].is_null())
      ++digits;
  }
  EXPECT_EQ(titles, 28u);
  EXPECT_EQ(empty_titles, 1u);  // the empty string is nulled too
  EXPECT_EQ(images, 87u);
  EXPECT_EQ(posters, 28u);
  EXPECT_EQ(counts, 28u);  // only the "User Info Error" rows lack a count
  EXPECT_EQ(tags, 55u);
  EXPECT_EQ(story, 278u);
  EXPECT_EQ(with_prefix, 0u);
  EXPECT_GT(thousands, 0u);
  EXPECT_GT(millions, 0u);
  EXPECT_GT(digits, 0u);
  EXPECT_EQ(thousands + millions + digits + counts, lines_of("pin").size());
}

TEST(CleanerGolden, CountsWithSuffixesAreMultipliedNotStripped) {
  DefaultPipeline p;
  auto cleaner = p.cleaner("pin");
  core::Row row;
  for (auto [fc, want] : std::vector<std::pair<std::string, int64_t>>{
           {"985k", 985000}, {"22k", 22000}, {"3M", 3000000}, {"718", 718}, {"0", 0}}) {
    std::string raw = R"({"index": 7, "follower_count": ")" + fc +
                      R"(", "save_location": "Local save in /data/art"})";
    ASSERT_TRUE(cleaner->clean(raw, row).is_ok()) << raw;
    EXPECT_EQ(row[4], core::Value::of_long(want)) << fc;
    EXPECT_EQ(row[9], core::Value::of_string("/data/art"));
  }
}

TEST(CleanerGolden, BothTimestampFormatsGiveTheSameInstant) {
  DefaultPipeline p;
  auto cleaner = p.cleaner("geo");
  core::Row a, b;
  ASSERT_TRUE(
      cleaner
          ->clean(
              R"({"ind": 1, "timestamp": "2020-08-28 03:52:47", "latitude": 1, "longitude": -2.5})",
              a)
          .is_ok());
  ASSERT_TRUE(
      cleaner
          ->clean(
              R"({"ind": 1, "timestamp": "2020-08-28T03:52:47", "latitude": 1, "longitude": -2.5})",
              b)
          .is_ok());
  EXPECT_EQ(a[3], core::Value::of_timestamp(expected_micros("2020-08-28 03:52:47")));
  EXPECT_EQ(a[3], b[3]);
  EXPECT_EQ(a[2], core::Value::of_array({1.0, -2.5}));
  EXPECT_TRUE(a[1].is_null());  // a missing field is null
}

TEST(CleanerGolden, FieldsInAnyOrderAndUnknownFieldsAreIgnored) {
  DefaultPipeline p;
  auto cleaner = p.cleaner("user");
  core::Row row;
  ASSERT_TRUE(
      cleaner
          ->clean(R"({"extra": {"nested": [1, {"x": null}]}, "date_joined": "2016-01-02T03:04:05",
      "age": "41", "last_name": "Lovelace", "first_name": "Ada", "ind": 12, "more": true})",
                  row)
          .is_ok());
  EXPECT_EQ(row[0], core::Value::of_long(12));
  EXPECT_EQ(row[1], core::Value::of_string("Ada Lovelace"));
  EXPECT_EQ(row[2], core::Value::of_long(41));
  EXPECT_EQ(row[3], core::Value::of_timestamp(expected_micros("2016-01-02 03:04:05")));
  // A missing or empty name part makes user_name null (Spark concat semantics).
  ASSERT_TRUE(cleaner->clean(R"({"ind": 13, "first_name": "", "last_name": "X"})", row).is_ok());
  EXPECT_TRUE(row[1].is_null());
  EXPECT_TRUE(row[2].is_null());
}

}  // namespace
}  // namespace pinstream::transforms
