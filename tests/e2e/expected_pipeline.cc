#include "tests/e2e/expected_pipeline.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <regex>
#include <set>

#include "tests/support/test_support.h"

namespace pinstream::testing {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::set<std::string>> kPlaceholders = {
    {"title", {"No Title Data Available"}},
    {"description",
     {"No description available Story format", "No description available", "Untitled"}},
    {"poster_name", {"User Info Error"}},
    {"follower_count", {"User Info Error"}},
    {"tag_list", {"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"}},
    {"image_src", {"Image src error."}},
};

// A string field: absent -> null, wrong JSON type -> error, placeholder/empty -> null.
bool get_str(const json& o, const std::string& k, json& out) {
  if (!o.contains(k) || o[k].is_null()) {
    out = nullptr;
    return true;
  }
  if (!o[k].is_string()) return false;
  std::string s = o[k].get<std::string>();
  auto it = kPlaceholders.find(k);
  if (s.empty() || (it != kPlaceholders.end() && it->second.count(s)))
    out = nullptr;
  else
    out = s;
  return true;
}

bool get_key(const json& o, const std::string& k, int64_t& out) {
  if (!o.contains(k) || !o[k].is_number_integer()) return false;
  out = o[k].get<int64_t>();
  return true;
}

int64_t year_of(int64_t secs) {
  std::string s = expected_format_time(secs);
  return std::stoll(s.substr(0, 4));
}

std::optional<std::string> age_group(const json& age) {
  if (!age.is_number_integer()) return std::nullopt;
  int64_t a = age.get<int64_t>();
  if (a >= 18 && a <= 24) return "18-24";
  if (a >= 25 && a <= 35) return "25-35";
  if (a >= 36 && a <= 50) return "36-50";
  if (a > 50) return "+50";
  return std::nullopt;
}

// percentile_disc(0.5): smallest v with at least half of the values <= v.
json median(std::vector<int64_t> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  size_t k = (v.size() + 1) / 2;  // ceil(n/2)-th smallest
  return v[k - 1];
}

}  // namespace

std::optional<int64_t> expected_parse_time(const std::string& s) {
  static const std::regex re(R"((\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2}))");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  std::tm t{};
  t.tm_year = std::stoi(m[1]) - 1900;
  t.tm_mon = std::stoi(m[2]) - 1;
  t.tm_mday = std::stoi(m[3]);
  t.tm_hour = std::stoi(m[4]);
  t.tm_min = std::stoi(m[5]);
  t.tm_sec = std::stoi(m[6]);
  if (t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23) return std::nullopt;
  return static_cast<int64_t>(timegm(&t));
}

std::string expected_format_time(int64_t secs) {
  auto tt = static_cast<time_t>(secs);
  std::tm t{};
  gmtime_r(&tt, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  return buf;
}

std::optional<json> expected_clean(const std::string& stream, const std::string& line) {
  json o = json::parse(line, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return std::nullopt;
  json out = json::object();
  if (stream == "pin") {
    int64_t ind;
    if (!get_key(o, "index", ind)) return std::nullopt;
    out["ind"] = ind;
    for (const char* k :
         {"unique_id", "title", "description", "follower_count", "poster_name", "tag_list",
          "is_image_or_video", "image_src", "save_location", "category"}) {
      json v;
      if (!get_str(o, k, v)) return std::nullopt;
      out[k] = v;
    }
    if (out["follower_count"].is_string()) {
      static const std::regex re(R"((\d+)([kM]?))");
      std::smatch m;
      std::string s = out["follower_count"].get<std::string>();
      if (std::regex_match(s, m, re)) {
        int64_t n = std::stoll(m[1]);
        out["follower_count"] = m[2] == "k" ? n * 1000 : m[2] == "M" ? n * 1000000 : n;
      } else {
        out["follower_count"] = nullptr;
      }
    }
    if (out["save_location"].is_string()) {
      std::string s = out["save_location"].get<std::string>();
      const std::string p = "Local save in ";
      if (s.rfind(p, 0) == 0) out["save_location"] = s.substr(p.size());
    }
    if (o.contains("downloaded") && !o["downloaded"].is_number_integer() &&
        !o["downloaded"].is_null())
      return std::nullopt;
  } else if (stream == "geo") {
    int64_t ind;
    if (!get_key(o, "ind", ind)) return std::nullopt;
    out["ind"] = ind;
    json country;
    if (!get_str(o, "country", country)) return std::nullopt;
    out["country"] = country;
    json lat = o.value("latitude", json()), lon = o.value("longitude", json());
    if ((!lat.is_null() && !lat.is_number()) || (!lon.is_null() && !lon.is_number()))
      return std::nullopt;
    out["coordinates"] = (lat.is_null() && lon.is_null()) ? json() : json::array({lat, lon});
    json ts;
    if (!get_str(o, "timestamp", ts)) return std::nullopt;
    if (ts.is_string()) {
      auto t = expected_parse_time(ts.get<std::string>());
      if (!t) return std::nullopt;
      out["timestamp"] = *t;
    } else {
      out["timestamp"] = nullptr;
    }
  } else {
    int64_t ind;
    if (!get_key(o, "ind", ind)) return std::nullopt;
    out["ind"] = ind;
    json first, last, dj;
    if (!get_str(o, "first_name", first) || !get_str(o, "last_name", last)) return std::nullopt;
    out["user_name"] = (first.is_null() || last.is_null())
                           ? json()
                           : json(first.get<std::string>() + " " + last.get<std::string>());
    json age = o.value("age", json());
    if (!age.is_null() && !age.is_number_integer()) return std::nullopt;
    out["age"] = age;
    if (!get_str(o, "date_joined", dj)) return std::nullopt;
    if (dj.is_string()) {
      auto t = expected_parse_time(dj.get<std::string>());
      if (!t) return std::nullopt;
      out["date_joined"] = *t;
    } else {
      out["date_joined"] = nullptr;
    }
  }
  return out;
}

void ExpectedPipeline::clean_and_account(const std::string& stream, const std::string& partition,
                                         const std::string& line) {
  ExpectedCounters& c = counters[stream];
  c.read++;
  auto row = expected_clean(stream, line);
  if (!row) {
    c.dead++;
    dead_letters++;
    return;
  }
  auto& table = stream == "pin" ? pin : stream == "geo" ? geo : user;
  int64_t key = (*row)["ind"].get<int64_t>();
  if (table.count(key)) {
    c.duplicates++;
    return;
  }
  c.clean++;
  table[key] = *row;
  if (stream == "geo" && (*row)["timestamp"].is_number_integer()) {
    int64_t ts = (*row)["timestamp"].get<int64_t>();
    // More than max_future (1 day) ahead of the clock: late (`future`), the maximum stays.
    if (ts > static_cast<int64_t>(std::time(nullptr)) + 86400) {
      c.late++;
      geo_late_[key] = true;
      return;
    }
    auto it = geo_max_.find(partition);
    bool late = it != geo_max_.end() && ts < it->second - 600;
    if (late) c.late++;
    geo_late_[key] = late;
    if (it == geo_max_.end())
      geo_max_[partition] = ts;
    else
      it->second = std::max(it->second, ts);
  }
}

void ExpectedPipeline::write_input(const fs::path& root, size_t max_keys, int partitions,
                                   int dup_every) {
  std::set<int64_t> keys;
  std::map<std::string, std::vector<std::string>> lines;
  for (const char* s : {"pin", "geo", "user"})
    lines[s] = read_lines(shared_data_dir() / (std::string(s) + ".jsonl"));
  // Keys: the first max_keys keys present in all three files, plus their neighbours that
  // are missing a part (so some posts never complete).
  std::map<int64_t, int> parts;
  for (const auto& [s, ls] : lines)
    for (const auto& l : ls) {
      json o = json::parse(l);
      parts[o.contains("index") ? o["index"].get<int64_t>() : o["ind"].get<int64_t>()]++;
    }
  for (const auto& [k, n] : parts) {
    if (keys.size() >= max_keys) break;
    keys.insert(k);
  }
  for (const char* s : {"pin", "geo", "user"}) {
    std::string topic = std::string("pinterest.") + s;
    std::map<int, std::vector<std::string>> by_part;
    int n = 0;
    for (const auto& l : lines[s]) {
      json o = json::parse(l);
      int64_t k = o.contains("index") ? o["index"].get<int64_t>() : o["ind"].get<int64_t>();
      if (!keys.count(k)) continue;
      int p = static_cast<int>(k % partitions);
      by_part[p].push_back(l);
      if (++n % dup_every == 0) by_part[(p + 0) % partitions].push_back(l);  // re-posted later
    }
    // Malformed records, one kind per partition slot.
    std::vector<std::string> bad = {
        "this is not json", "[1,2,3]", "{\"unique_id\": \"no key\"}",
        std::string("{\"") + (std::string(s) == "pin" ? "index" : "ind") + "\": 1.5}",
        std::string("{\"") + (std::string(s) == "pin" ? "index" : "ind") + "\": null}"};
    if (std::string(s) == "user")
      bad.push_back(
          "{\"ind\": 424242, \"first_name\": \"A\", \"last_name\": \"B\", \"age\": \"twenty\", "
          "\"date_joined\": \"2016-01-01 00:00:00\"}");
    if (std::string(s) == "geo")
      bad.push_back(
          "{\"ind\": 424243, \"timestamp\": \"yesterday\", \"latitude\": 1, \"longitude\": 2, "
          "\"country\": \"X\"}");
    for (size_t b = 0; b < bad.size(); ++b)
      by_part[static_cast<int>(b % static_cast<size_t>(partitions))].push_back(bad[b]);
    for (auto& [p, ls] : by_part) {
      // Two files per partition: the second starts at the offset after the first.
      size_t half = ls.size() / 2;
      fs::path dir = root / "topics" / topic / ("partition=" + std::to_string(p));
      std::string f1, f2;
      for (size_t i = 0; i < ls.size(); ++i) (i < half ? f1 : f2) += ls[i] + "\n";
      write_file(dir / (topic + "+" + std::to_string(p) + "+0.json"), f1);
      write_file(dir / (topic + "+" + std::to_string(p) + "+" + std::to_string(half) + ".json"),
                 f2);
      std::string part_id = topic + "/" + std::to_string(p);
      for (const auto& l : ls) clean_and_account(s, part_id, l);
    }
  }
  build_posts();
}

void ExpectedPipeline::read_input(const fs::path& root) {
  for (const char* s : {"pin", "geo", "user"}) {
    std::string topic = std::string("pinterest.") + s;
    if (!fs::exists(root / "topics" / topic)) continue;
    std::map<int, std::map<int64_t, fs::path>> files;  // partition -> start offset -> file
    for (const auto& d : fs::directory_iterator(root / "topics" / topic)) {
      int p = std::stoi(d.path().filename().string().substr(std::string("partition=").size()));
      for (const auto& f : fs::directory_iterator(d.path())) {
        std::string name = f.path().stem().string();
        files[p][std::stoll(name.substr(name.rfind('+') + 1))] = f.path();
      }
    }
    for (const auto& [p, by_offset] : files)
      for (const auto& [offset, f] : by_offset)
        for (const auto& l : read_lines(f))
          clean_and_account(s, topic + "/" + std::to_string(p), l);
  }
  build_posts();
}

void ExpectedPipeline::build_posts() {
  posts.clear();
  for (const auto& [k, p] : pin) {
    if (!geo.count(k) || !user.count(k)) continue;
    ExpectedPost post{k, p, geo[k], user[k], geo_late_.count(k) ? geo_late_[k] : false};
    posts.push_back(post);
  }
}

json ExpectedPipeline::view(const std::string& name) const {
  using Key = std::vector<json>;
  std::map<Key, int64_t> counts;
  std::map<Key, std::vector<int64_t>> values;
  auto year = [](const json& t) -> json {
    return t.is_number_integer() ? json(year_of(t.get<int64_t>())) : json();
  };
  json rows = json::array();
  auto top1 = [&](const std::map<Key, int64_t>& c) {  // per first column: max count, tie by 2nd asc
    std::map<json, std::pair<json, int64_t>> best;
    for (const auto& [k, n] : c) {
      auto it = best.find(k[0]);
      if (it == best.end() || n > it->second.second) best[k[0]] = {k[1], n};
    }
    for (const auto& [g, b] : best) rows.push_back({g, b.first, b.second});
  };
  for (const auto& p : posts) {
    const json& cat = p.pin["category"];
    const json& country = p.geo["country"];
    json py = year(p.geo["timestamp"]), jy = year(p.user["date_joined"]);
    auto ag = age_group(p.user["age"]);
    json agj = ag ? json(*ag) : json();
    const json& fc = p.pin["follower_count"];
    auto in = [](const json& y, int lo, int hi) {
      return y.is_number_integer() && y.get<int64_t>() >= lo && y.get<int64_t>() <= hi;
    };
    if (name == "most_popular_category_by_country" && !country.is_null() && !cat.is_null())
      counts[{country, cat}]++;
    if ((name == "category_count_by_year" || name == "most_popular_category_by_year") &&
        in(py, 2018, 2022) && !cat.is_null())
      counts[{py, cat}]++;
    if (name == "most_popular_category_by_age_group" && !agj.is_null() && !cat.is_null())
      counts[{agj, cat}]++;
    if (name == "users_joined_by_year" && in(jy, 2015, 2020)) counts[{jy}]++;
    if (name == "median_follower_count_by_age_group" && !agj.is_null()) {
      auto& v = values[{agj}];
      if (fc.is_number_integer()) v.push_back(fc.get<int64_t>());
    }
    if (name == "median_follower_count_by_join_year" && in(jy, 2015, 2020)) {
      auto& v = values[{jy}];
      if (fc.is_number_integer()) v.push_back(fc.get<int64_t>());
    }
    if (name == "median_follower_count_by_age_group_and_join_year" && !agj.is_null() &&
        in(jy, 2015, 2020)) {
      auto& v = values[{agj, jy}];
      if (fc.is_number_integer()) v.push_back(fc.get<int64_t>());
    }
    if (name == "category_count_by_hour" && !p.geo_late && p.geo["timestamp"].is_number_integer() &&
        !cat.is_null()) {
      int64_t ts = p.geo["timestamp"].get<int64_t>();
      counts[{json(expected_format_time(ts - ((ts % 3600) + 3600) % 3600)), cat}]++;
    }
    // A post without poster_name or follower_count is no candidate (SPEC section 4).
    if ((name == "most_followed_user_by_country" || name == "country_with_most_followed_user") &&
        !country.is_null() && p.pin["poster_name"].is_string() && fc.is_number_integer())
      values[{country, p.pin["poster_name"]}].push_back(fc.get<int64_t>());
  }
  if (name == "most_popular_category_by_country" || name == "most_popular_category_by_year" ||
      name == "most_popular_category_by_age_group") {
    top1(counts);
  } else if (name == "category_count_by_year" || name == "category_count_by_hour") {
    for (const auto& [k, n] : counts) rows.push_back({k[0], k[1], n});
  } else if (name == "users_joined_by_year") {
    for (const auto& [k, n] : counts) rows.push_back({k[0], n});
  } else if (name.rfind("median_", 0) == 0) {
    for (const auto& [k, v] : values) {
      if (v.empty()) continue;  // a null median is a null reported value: left out
      json r = json::array();
      for (const auto& x : k) r.push_back(x);
      r.push_back(median(v));
      rows.push_back(r);
    }
  } else if (name == "most_followed_user_by_country" || name == "country_with_most_followed_user") {
    // argmax follower_count per country; ties by poster_name ascending.
    std::map<json, std::pair<json, int64_t>> best;
    for (const auto& [k, v] : values) {
      int64_t m = *std::max_element(v.begin(), v.end());
      auto it = best.find(k[0]);
      if (it == best.end() || m > it->second.second) best[k[0]] = {k[1], m};
    }
    if (name == "most_followed_user_by_country") {
      for (const auto& [c, b] : best) rows.push_back({c, b.first, b.second});
    } else {
      std::optional<std::pair<json, int64_t>> top;
      for (const auto& [c, b] : best)
        if (!top || b.second > top->second) top = std::make_pair(c, b.second);
      if (top) rows.push_back({top->first, top->second});
    }
  }
  return rows;
}

}  // namespace pinstream::testing
