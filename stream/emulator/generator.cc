#include "stream/emulator/generator.h"

#include <algorithm>
#include <cstdio>

#include "stream/core/time.h"
#include "stream/emulator/vocabulary.h"

namespace pinstream::runtime::emulator {
namespace {

// Rates measured on shared/data/pin.jsonl (3,866 rows).
constexpr double kStoryRate = 0.072;          // multi-video(story page format), 278 rows
constexpr double kVideoRate = 0.030;          // video, 114 rows
constexpr double kUserErrorRate = 0.0072;     // User Info Error (poster_name + follower_count), 28
constexpr double kNoTitleRate = 0.0072;       // No Title Data Available, 28
constexpr double kNoDescriptionRate = 0.017;  // No description available, 66
constexpr double kNoTagsRate = 0.014;         // N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e, 55
constexpr double kImageErrorRate = 0.0225;    // Image src error. (downloaded 0), 87
constexpr double kEmptyRate = 0.002;          // empty title / description / tag_list
constexpr const char* kNoTags = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";

// 2017-10-01 .. 2022-10-01 (geo timestamps) and 2015-10-01 .. 2017-10-01 (date_joined).
constexpr int64_t kGeoStart = 1506816000LL * core::kMicrosPerSecond;
constexpr int64_t kGeoSpan = 157766400LL * core::kMicrosPerSecond;
constexpr int64_t kJoinStart = 1443657600LL * core::kMicrosPerSecond;
constexpr int64_t kJoinSpan = 63158400LL * core::kMicrosPerSecond;

// splitmix64: tiny, fast, and the same on every platform (std distributions are not).
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A per-row random stream, seeded from (seed, ind): a row's content is a pure function of both.
struct RowRng {
  uint64_t s;
  uint64_t next() { return s = mix(s); }
  uint64_t below(uint64_t n) { return next() % n; }  // bias < n / 2^64: irrelevant here
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  const char* pick(vocab::List l) { return l[below(l.size)]; }
  // Skewed towards the head of the list, like real poster frequencies.
  const char* pick_skewed(vocab::List l) { return l[below(1 + below(l.size))]; }
};

void append_escaped(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
}

void field(std::string& out, const char* name, const std::string& value, bool first = false) {
  if (!first) out += ", ";
  out += '"';
  out += name;
  out += "\": \"";
  append_escaped(out, value);
  out += '"';
}

void field_raw(std::string& out, const char* name, const std::string& value, bool first = false) {
  if (!first) out += ", ";
  out += '"';
  out += name;
  out += "\": ";
  out += value;
}

std::string title_text(RowRng& r, size_t cat) {
  std::string t = r.pick(vocab::adjectives());
  t += ' ';
  t += r.pick(vocab::subjects(cat));
  if (r.chance(0.7)) {
    t += ' ';
    t += r.pick(vocab::tails());
  }
  return t;
}

std::string description_text(RowRng& r, size_t cat) {
  std::string d = title_text(r, cat) + ". ";
  uint64_t n = 1 + r.below(3);
  for (uint64_t i = 0; i < n; ++i) {
    d += r.pick(vocab::sentences());
    d += ' ';
  }
  if (r.chance(0.5)) d.replace(d.size() - 1, 1, "\u2026 ");  // truncated like the real rows
  return d;
}

std::string tags_text(RowRng& r, size_t cat) {
  std::string t;
  uint64_t n = 2 + r.below(7);
  for (uint64_t i = 0; i < n; ++i) {
    if (i) t += ',';
    t += i % 2 ? r.pick(vocab::adjectives()) + std::string(" ") + r.pick(vocab::subjects(cat))
               : std::string(r.pick(vocab::subjects(cat)));
  }
  return t;
}

// "718", "942k", "2M": 17% digits, 74% thousands, 8% millions (as in pin.jsonl), up to 15M.
std::string follower_text(RowRng& r) {
  double u = r.unit();
  if (u < 0.17) return std::to_string(r.below(1000));
  if (u < 0.92) return std::to_string(1 + r.below(999)) + "k";
  return std::to_string(1 + r.below(15)) + "M";
}

std::string time_text(int64_t micros, bool iso) {
  std::string t = core::format_timestamp(micros - micros % core::kMicrosPerSecond);
  if (!iso) t[10] = ' ';
  return t;
}

// Ages 20-60 skewed young (a quarter are 20 in user.jsonl).
int64_t age_of(RowRng& r) {
  if (r.chance(0.2)) return 20;
  uint64_t a = r.below(41), b = r.below(41);
  return 20 + static_cast<int64_t>((a * b) / 40);  // 20..60
}

// The pin record of post `ind` (ids: its decimal text), drawing from `r`.
void pin_row(RowRng& r, int64_t ind, const std::string& ids, Record& pin) {
  const size_t cat_index = r.below(vocab::categories().size);
  const std::string cat = vocab::categories()[cat_index];
  const double m = r.unit();
  const bool story = m < kStoryRate;
  const char* media = story                         ? "multi-video(story page format)"
                      : m < kStoryRate + kVideoRate ? "video"
                                                    : "image";
  const bool user_error = r.chance(kUserErrorRate);
  const bool image_error = r.chance(kImageErrorRate);
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(r.next() & 0xFFFFFFFF),
                static_cast<unsigned long long>(r.next() & 0xFFFF),
                static_cast<unsigned long long>(r.next() & 0xFFF),
                static_cast<unsigned long long>(0x8000 | (r.next() & 0x3FFF)),
                static_cast<unsigned long long>(r.next() & 0xFFFFFFFFFFFF));
  std::string title = r.chance(kNoTitleRate) ? "No Title Data Available"
                      : r.chance(kEmptyRate) ? ""
                                             : title_text(r, cat_index);
  std::string desc = story                          ? "No description available Story format"
                     : r.chance(kNoDescriptionRate) ? "No description available"
                     : r.chance(kEmptyRate)         ? ""
                                                    : description_text(r, cat_index);
  std::string poster = user_error ? "User Info Error" : r.pick_skewed(vocab::posters());
  std::string follower = user_error ? "User Info Error" : follower_text(r);
  std::string tags = r.chance(kNoTagsRate)  ? kNoTags
                     : r.chance(kEmptyRate) ? ""
                                            : tags_text(r, cat_index);
  char hex[8];
  std::snprintf(hex, sizeof hex, "%02llx/%02llx", static_cast<unsigned long long>(r.below(256)),
                static_cast<unsigned long long>(r.below(256)));
  std::string img =
      image_error ? "Image src error."
                  : std::string("https://i.pinimg.com/originals/") + hex + "/" + uuid + ".jpg";
  pin.stream = "pin";
  pin.ind = ind;
  pin.json.assign(1, '{');
  field_raw(pin.json, "index", ids, true);
  field(pin.json, "unique_id", uuid);
  field(pin.json, "title", title);
  field(pin.json, "description", desc);
  field(pin.json, "poster_name", poster);
  field(pin.json, "follower_count", follower);
  field(pin.json, "tag_list", tags);
  field(pin.json, "is_image_or_video", media);
  field(pin.json, "image_src", img);
  field_raw(pin.json, "downloaded", image_error ? "0" : "1");
  field(pin.json, "save_location", "Local save in /data/" + cat);
  field(pin.json, "category", cat);
  pin.json += '}';
}

// Its geolocation record, drawing from `r` after the pin record.
void geo_row(RowRng& r, int64_t ind, const std::string& ids, const GeneratorOptions& opts,
             Record& geo) {
  int64_t ts = kGeoStart + static_cast<int64_t>(r.below(static_cast<uint64_t>(kGeoSpan)));
  if (opts.timestamps_now) ts = opts.now_micros;
  char num[64];
  geo.stream = "geo";
  geo.ind = ind;
  geo.json.assign(1, '{');
  field_raw(geo.json, "ind", ids, true);
  field(geo.json, "timestamp", time_text(ts, r.below(2) == 0));
  std::snprintf(num, sizeof num, "%.4f", r.unit() * 180.0 - 90.0);
  field_raw(geo.json, "latitude", num);
  std::snprintf(num, sizeof num, "%.4f", r.unit() * 360.0 - 180.0);
  field_raw(geo.json, "longitude", num);
  field(geo.json, "country", r.pick(vocab::countries()));
  geo.json += '}';
}

// Its user record, drawing from `r` after the geolocation record.
void user_row(RowRng& r, int64_t ind, const std::string& ids, Record& user) {
  int64_t joined = kJoinStart + static_cast<int64_t>(r.below(static_cast<uint64_t>(kJoinSpan)));
  user.stream = "user";
  user.ind = ind;
  user.json.assign(1, '{');
  field_raw(user.json, "ind", ids, true);
  field(user.json, "first_name", r.pick_skewed(vocab::first_names()));
  field(user.json, "last_name", r.pick_skewed(vocab::last_names()));
  field_raw(user.json, "age", std::to_string(age_of(r)));
  field(user.json, "date_joined", time_text(joined, r.below(2) == 0));
  user.json += '}';
}

}  // namespace

Generator::Generator(GeneratorOptions opts)
    : opts_(opts),
      state_(mix(opts.seed ^ 0x5EED)),
      next_ind_(std::max<int64_t>(0, opts.first_ind)) {}

uint64_t Generator::rand() { return state_ = mix(state_); }
double Generator::uniform() { return static_cast<double>(rand() >> 11) * 0x1.0p-53; }

void Generator::next(Record& pin, Record& geo, Record& user) {
  int64_t ind;
  if (next_ind_ > opts_.first_ind && uniform() < opts_.duplicate_rate) {
    ind = opts_.first_ind +
          static_cast<int64_t>(rand() % static_cast<uint64_t>(next_ind_ - opts_.first_ind));
  } else {
    ind = next_ind_++;
  }
  ++posts_;
  row(ind, pin, geo, user);
  if (opts_.malformed_rate > 0 && uniform() < opts_.malformed_rate) spoil(pin, geo, user);
}

// Replaces one of the three records by something the cleaning must send to dead letters.
void Generator::spoil(Record& pin, Record& geo, Record& user) {
  Record* r = nullptr;
  switch (rand() % 3) {
    case 0:
      r = &pin;
      break;
    case 1:
      r = &geo;
      break;
    default:
      r = &user;
      break;
  }
  const std::string key = r == &pin ? "index" : "ind";
  const std::string ids = std::to_string(r->ind);
  switch (rand() % 7) {
    case 0:
      r->json = "{not json " + ids;
      break;
    case 1:
      r->json = "[\"an\", \"array\", " + ids + "]";
      break;
    case 2:
      r->json = "{\"unique\": \"no key\", \"row\": " + ids + "}";
      break;
    case 3:
      r->json = "{\"" + key + "\": \"" + ids + "x\"}";
      break;  // key not an integer
    case 4:
      r->json.resize(r->json.size() / 2);
      break;  // truncated
    case 5:
      r->json.insert(r->json.size() - 2, "\xC3\x28");
      break;  // invalid UTF-8
    default:  // a field of the wrong type that no rule converts
      if (r == &pin) {
        r->json.replace(r->json.find("\"downloaded\": ") + 14, 1, "\"yes\"");
      } else if (r == &geo) {
        r->json.replace(r->json.find("\"latitude\": "), 12, "\"latitude\": \"north\", \"x\": ");
      } else {
        r->json = "{\"ind\": " + ids +
                  ", \"first_name\": \"A\", \"last_name\": \"B\", \"age\": \"twenty\", "
                  "\"date_joined\": \"2016-01-01 00:00:00\"}";
      }
      break;
  }
}

void Generator::row(int64_t ind, Record& pin, Record& geo, Record& user) const {
  RowRng r{mix(opts_.seed * 0x100000001B3ULL + static_cast<uint64_t>(ind))};
  const std::string ids = std::to_string(ind);
  pin_row(r, ind, ids, pin);
  geo_row(r, ind, ids, opts_, geo);
  user_row(r, ind, ids, user);
}

}  // namespace pinstream::runtime::emulator
