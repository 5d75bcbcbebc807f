// An independent model of the default Pinterest pipeline, written for the tests: it builds
// an S3-sink input from the real records in ../shared/data (with duplicates and malformed
// records mixed in) and computes, with plain C++ and nlohmann::json (none of pinstream's
// code), what the tables, counters and views must hold after a run over that input.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pinstream::testing {

struct ExpectedPost {
  int64_t ind = 0;
  nlohmann::json pin, geo, user;  // cleaned, as JSON objects with SPEC column names
  bool geo_late = false;
};

struct ExpectedCounters {
  int64_t read = 0, clean = 0, dead = 0, duplicates = 0, late = 0;
};

class ExpectedPipeline {
 public:
  // Writes topics/<id>.{pin,geo,user}/partition=<ind % partitions>/... under `root`, using
  // at most `max_keys` keys of the shared data, `dup_every`-th records re-posted later in the
  // same partition, and a few malformed records per stream.
  void write_input(const std::filesystem::path& root, size_t max_keys, int partitions = 3,
                   int dup_every = 7);
  // Accounts for an S3-sink input already under `root` (files of each partition in offset
  // order), as write_input() does for the input it writes.
  void read_input(const std::filesystem::path& root);

  std::map<std::string, ExpectedCounters> counters;  // by stream
  std::map<int64_t, nlohmann::json> pin, geo, user;  // cleaned rows by key (first wins)
  std::vector<ExpectedPost> posts;                   // keys with all three parts
  size_t dead_letters = 0;

  // Rows of a view as JSON arrays (same shape as the query answer's "rows").
  nlohmann::json view(const std::string& name) const;

 private:
  void clean_and_account(const std::string& stream, const std::string& partition,
                         const std::string& line);
  void build_posts();
  std::map<std::string, int64_t> geo_max_;  // partition -> max event time (seconds)
  std::map<int64_t, bool> geo_late_;
};

// The cleaning rules of SPEC section 3, re-implemented for the tests. nullopt = dead letter.
std::optional<nlohmann::json> expected_clean(const std::string& stream, const std::string& line);
// Seconds since the epoch of "YYYY-MM-DD HH:MM:SS" / "YYYY-MM-DDTHH:MM:SS".
std::optional<int64_t> expected_parse_time(const std::string& s);
std::string expected_format_time(int64_t seconds);

}  // namespace pinstream::testing
