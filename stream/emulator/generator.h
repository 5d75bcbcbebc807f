// The emulator's generator: deterministic random posts (pin, geo, user records sharing an
// `ind`) shaped like the real Pinterest rows in shared/data, with their dirt at the real
// rates: the placeholder values, "k"/"M" follower counts, save_location prefixes, both
// timestamp formats, re-posted rows (duplicates) and, optionally, malformed records.
// New posts take keys 0, 1, 2, ...; a re-post repeats an earlier key. Every row's content is
// a pure function of (seed, ind) (except timestamps_now), so a re-post is byte-identical.
// Not thread-safe; cheap to construct (one per thread).
#pragma once

#include <cstdint>
#include <string>

namespace pinstream::runtime::emulator {

struct GeneratorOptions {
  uint64_t seed = 100;          // Default: 100 (the original emulator's random.seed(100))
  double duplicate_rate = 0.1;  // Default: 10% of posts re-post an earlier row
  double malformed_rate = 0.0;  // Default: none
  bool timestamps_now = false;  // Default: geo timestamps in 2017-10..2022-10
  int64_t now_micros = 0;       // used when timestamps_now
  int64_t first_ind = 0;        // Default: 0 (a later run can add posts of new inds)
};

struct Record {
  const char* stream = "";  // "pin", "geo" or "user"
  int64_t ind = 0;
  std::string json;
};

class Generator {
 public:
  explicit Generator(GeneratorOptions opts);
  // The next post: fills the three records (pin, geo, user) with the same ind. With
  // malformed_rate, one of the three may be replaced by a record cleaning must reject.
  void next(Record& pin, Record& geo, Record& user);
  int64_t posts() const { return posts_; }
  // For timestamps_now: the time stamped on the next posts.
  void set_now_micros(int64_t t) { opts_.now_micros = t; }

 private:
  uint64_t rand();
  double uniform();
  void row(int64_t ind, Record& pin, Record& geo, Record& user) const;
  void spoil(Record& pin, Record& geo, Record& user);

  GeneratorOptions opts_;
  uint64_t state_;
  int64_t posts_ = 0;
  int64_t next_ind_ = 0;
};

}  // namespace pinstream::runtime::emulator
