#include "stream/emulator/generator.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace pinstream::runtime::emulator {
namespace {

using nlohmann::json;

struct Post {
  Record pin, geo, user;
};

std::vector<Post> generate(GeneratorOptions opts, int n) {
  Generator gen(opts);
  std::vector<Post> out(static_cast<size_t>(n));
  for (auto& p : out) gen.next(p.pin, p.geo, p.user);
  return out;
}

TEST(Generator, SameSeedGivesByteIdenticalPostsAndAnotherSeedDiffers) {
  auto a = generate({.seed = 7}, 500), b = generate({.seed = 7}, 500),
       c = generate({.seed = 8}, 500);
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].pin.json, b[i].pin.json);
    EXPECT_EQ(a[i].geo.json, b[i].geo.json);
    EXPECT_EQ(a[i].user.json, b[i].user.json);
    differ += a[i].pin.json != c[i].pin.json;
  }
  EXPECT_GT(differ, 400u);
}

TEST(Generator, FirstIndStartsTheIndsAndItsDuplicatesThere) {
  GeneratorOptions o;
  o.first_ind = 1000;
  o.duplicate_rate = 0.3;
  Generator gen(o);
  Record pin, geo, user;
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    gen.next(pin, geo, user);
    EXPECT_GE(pin.ind, 1000);
    seen.insert(pin.ind);
  }
  EXPECT_EQ(*seen.begin(), 1000);
  EXPECT_LT(seen.size(), 200u) << "duplicates re-post inds of this run";
}

TEST(Generator, KnownSeedGivesAPinnedFirstPost) {
  // Pins the output across compilers and standard libraries: no std distributions inside.
  auto p = generate({.seed = 100}, 1)[0];
  EXPECT_EQ(p.geo.json,
            "{\"ind\": 0, \"timestamp\": \"2020-12-19 22:11:48\", \"latitude\": 6.1880, "
            "\"longitude\": 83.5003, \"country\": \"Syrian Arab Republic\"}");
  EXPECT_EQ(p.user.json,
            "{\"ind\": 0, \"first_name\": \"Danielle\", \"last_name\": \"Atkins\", \"age\": 31, "
            "\"date_joined\": \"2016-06-27 04:10:24\"}");
  EXPECT_NE(p.pin.json.find("\"unique_id\": \"808684f5-2063-402c-a883-ace92203d1e2\""),
            std::string::npos);
}

TEST(Generator, ThreeRecordsOfAPostShareTheKeyAndHaveTheRawFieldsInTableOrder) {
  for (const auto& p : generate({.seed = 1}, 300)) {
    json pin = json::parse(p.pin.json), geo = json::parse(p.geo.json),
         user = json::parse(p.user.json);
    EXPECT_EQ(pin["index"], p.pin.ind);
    EXPECT_EQ(geo["ind"], p.pin.ind);
    EXPECT_EQ(user["ind"], p.pin.ind);
    EXPECT_EQ(p.geo.ind, p.pin.ind);
    EXPECT_EQ(p.user.ind, p.pin.ind);
    EXPECT_STREQ(p.pin.stream, "pin");
    EXPECT_STREQ(p.geo.stream, "geo");
    EXPECT_STREQ(p.user.stream, "user");
    // Field order as the source tables serve them (json::parse sorts keys, so check text).
    EXPECT_EQ(p.pin.json.find("{\"index\": "), 0u);
    EXPECT_LT(p.pin.json.find("\"save_location\""), p.pin.json.find("\"category\""));
    EXPECT_EQ(p.geo.json.find("{\"ind\": "), 0u);
    EXPECT_LT(p.geo.json.find("\"longitude\""), p.geo.json.find("\"country\""));
    EXPECT_EQ(pin.size(), 12u);
    EXPECT_EQ(geo.size(), 5u);
    EXPECT_EQ(user.size(), 5u);
    EXPECT_TRUE(pin["downloaded"].is_number_integer());
    EXPECT_TRUE(geo["latitude"].is_number());
    EXPECT_TRUE(user["age"].is_number_integer());
    EXPECT_GE(user["age"].get<int>(), 20);
    EXPECT_LE(user["age"].get<int>(), 60);
    EXPECT_EQ(pin["save_location"].get<std::string>(),
              "Local save in /data/" + pin["category"].get<std::string>());
    EXPECT_EQ(pin["downloaded"] == 0, pin["image_src"] == "Image src error.");
    EXPECT_EQ(pin["poster_name"] == "User Info Error", pin["follower_count"] == "User Info Error");
    EXPECT_EQ(pin["is_image_or_video"] == "multi-video(story page format)",
              pin["description"] == "No description available Story format");
  }
}

TEST(Generator, DirtAppearsAtAboutTheRealRates) {
  const int n = 20000;
  std::map<std::string, int> count;
  std::set<std::string> categories, countries;
  std::regex follower(R"(^(\d+|\d+k|\d+M)$)");
  int64_t max_follower = 0;
  for (const auto& p : generate({.seed = 3, .duplicate_rate = 0}, n)) {
    json pin = json::parse(p.pin.json), geo = json::parse(p.geo.json);
    categories.insert(pin["category"]);
    countries.insert(geo["country"]);
    count["no_title"] += pin["title"] == "No Title Data Available";
    count["story"] += pin["description"] == "No description available Story format";
    count["no_description"] += pin["description"] == "No description available";
    count["user_error"] += pin["poster_name"] == "User Info Error";
    count["no_tags"] += pin["tag_list"] == "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";
    count["image_error"] += pin["image_src"] == "Image src error.";
    count["empty"] += pin["title"] == "" || pin["description"] == "" || pin["tag_list"] == "";
    std::string f = pin["follower_count"];
    if (f == "User Info Error") continue;
    ASSERT_TRUE(std::regex_match(f, follower)) << f;
    int64_t v = std::stoll(f) * (f.back() == 'k' ? 1000 : f.back() == 'M' ? 1000000 : 1);
    max_follower = std::max(max_follower, v);
    count[f.back() == 'k' ? "k" : f.back() == 'M' ? "M" : "digits"]++;
  }
  auto rate = [&](const char* k) { return static_cast<double>(count[k]) / n; };
  EXPECT_NEAR(rate("no_title"), 0.0072, 0.003);
  EXPECT_NEAR(rate("story"), 0.072, 0.01);
  EXPECT_NEAR(rate("no_description"), 0.017 * (1 - 0.072), 0.004);
  EXPECT_NEAR(rate("user_error"), 0.0072, 0.003);
  EXPECT_NEAR(rate("no_tags"), 0.014, 0.004);
  EXPECT_NEAR(rate("image_error"), 0.0225, 0.005);
  EXPECT_GT(count["empty"], 20);
  EXPECT_LT(count["empty"], 300);
  EXPECT_NEAR(rate("k"), 0.74, 0.03);
  EXPECT_NEAR(rate("M"), 0.08, 0.02);
  EXPECT_LE(max_follower, 15'000'000);
  EXPECT_GE(max_follower, 10'000'000);
  EXPECT_EQ(categories.size(), 13u);
  EXPECT_GT(countries.size(), 230u);
  EXPECT_TRUE(countries.count("Bouvet Island (Bouvetoya)"));
}

TEST(Generator, TimestampsUseBothFormatsWithinTheDatasetRanges) {
  std::regex iso(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$)"),
      spaced(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$)");
  int iso_count = 0, spaced_count = 0;
  for (const auto& p : generate({.seed = 5}, 2000)) {
    std::string ts = json::parse(p.geo.json)["timestamp"],
                joined = json::parse(p.user.json)["date_joined"];
    for (const std::string& t : {ts, joined}) {
      bool i = std::regex_match(t, iso), s = std::regex_match(t, spaced);
      ASSERT_TRUE(i || s) << t;
      iso_count += i;
      spaced_count += s;
    }
    EXPECT_GE(ts.substr(0, 7), "2017-10");
    EXPECT_LT(ts.substr(0, 7), "2022-10");
    EXPECT_GE(joined.substr(0, 7), "2015-10");
    EXPECT_LT(joined.substr(0, 7), "2017-10");
  }
  EXPECT_GT(iso_count, 1500);
  EXPECT_GT(spaced_count, 1500);
}

TEST(Generator, TimestampsNowStampTheGivenTime) {
  Generator gen({.seed = 5, .timestamps_now = true});
  gen.set_now_micros(1'700'000'000'123'456);  // 2023-11-14T22:13:20.123456Z
  Record pin, geo, user;
  gen.next(pin, geo, user);
  std::string ts = json::parse(geo.json)["timestamp"];
  EXPECT_TRUE(ts == "2023-11-14T22:13:20" || ts == "2023-11-14 22:13:20") << ts;
}

TEST(Generator, RepostsRepeatEarlierRowsByteForByteAtTheDuplicateRate) {
  auto posts = generate({.seed = 11, .duplicate_rate = 0.1}, 5000);
  std::map<int64_t, std::string> first;
  int dups = 0;
  int64_t next_new = 0;
  for (const auto& p : posts) {
    std::string all = p.pin.json + p.geo.json + p.user.json;
    auto [it, inserted] = first.emplace(p.pin.ind, all);
    if (inserted) {
      EXPECT_EQ(p.pin.ind, next_new++);
    } else {
      ++dups;
      EXPECT_EQ(it->second, all);
    }
  }
  EXPECT_NEAR(dups / 5000.0, 0.1, 0.02);
  EXPECT_EQ(generate({.seed = 11, .duplicate_rate = 0}, 1000).back().pin.ind, 999);
}

TEST(Generator, MalformedRecordsAppearOnlyWhenAskedAndAreOfSeveralKinds) {
  auto is_clean = [](const Record& r) {
    json j = json::parse(r.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    const char* key = std::string(r.stream) == "pin" ? "index" : "ind";
    if (!j.contains(key) || !j[key].is_number_integer()) return false;
    if (j.contains("age") && !j["age"].is_number_integer()) return false;
    if (j.contains("latitude") && !j["latitude"].is_number()) return false;
    if (j.contains("downloaded") && !j["downloaded"].is_number_integer()) return false;
    return true;
  };
  for (const auto& p : generate({.seed = 2}, 2000))
    for (const Record* r : {&p.pin, &p.geo, &p.user}) ASSERT_TRUE(is_clean(*r)) << r->json;
  int bad = 0;
  std::set<std::string> streams;
  bool not_json = false, wrong_age = false;
  for (const auto& p : generate({.seed = 2, .malformed_rate = 0.2}, 2000)) {
    int bad_in_post = 0;
    for (const Record* r : {&p.pin, &p.geo, &p.user}) {
      if (is_clean(*r)) continue;
      ++bad_in_post;
      streams.insert(r->stream);
      not_json |= json::parse(r->json, nullptr, false).is_discarded();
      wrong_age |= r->json.find("\"age\": \"twenty\"") != std::string::npos;
    }
    EXPECT_LE(bad_in_post, 1);
    bad += bad_in_post;
  }
  EXPECT_NEAR(bad / 2000.0, 0.2, 0.04);
  EXPECT_EQ(streams.size(), 3u);
  EXPECT_TRUE(not_json);
  EXPECT_TRUE(wrong_age);
}

}  // namespace
}  // namespace pinstream::runtime::emulator
