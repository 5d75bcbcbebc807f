#include "stream/core/time.h"

#include <time.h>

#include <chrono>
#include <cstdio>

namespace pinstream::core {
namespace {

bool digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    char c = s[k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

std::optional<int64_t> parse_timestamp(std::string_view s) {
  int64_t y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, static_cast<unsigned>(mo)))
    return std::nullopt;
  size_t p = 10;
  int64_t offset_s = 0;
  if (p < s.size()) {
    if ((s[p] != ' ' && s[p] != 'T') || !digits(s, p + 1, 2, h) || s.size() < p + 9 ||
        s[p + 3] != ':' || !digits(s, p + 4, 2, mi) || s[p + 6] != ':' || !digits(s, p + 7, 2, se))
      return std::nullopt;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    p += 9;
    if (p < s.size() && s[p] == '.') {
      ++p;
      int n = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (n < 6) frac = frac * 10 + (s[p] - '0');
        ++n;
        ++p;
      }
      if (n == 0 || n > 9) return std::nullopt;
      for (int k = n; k < 6; ++k) frac *= 10;
    }
    if (p < s.size()) {
      if (s[p] == 'Z' && p + 1 == s.size()) {
        p++;
      } else if ((s[p] == '+' || s[p] == '-') && s.size() == p + 6 && s[p + 3] == ':') {
        int64_t oh, om;
        if (!digits(s, p + 1, 2, oh) || !digits(s, p + 4, 2, om) || oh > 23 || om > 59)
          return std::nullopt;
        offset_s = (oh * 3600 + om * 60) * (s[p] == '+' ? 1 : -1);
        p += 6;
      } else {
        return std::nullopt;
      }
    }
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * kMicrosPerSecond + frac;
}

std::string format_timestamp(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / kMicrosPerSecond
                             : -((-micros + kMicrosPerSecond - 1) / kMicrosPerSecond);
  int64_t frac = micros - secs * kMicrosPerSecond;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                        static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  if (frac != 0)
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06lld",
                  static_cast<long long>(frac));
  return buf;
}

int64_t year_of(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / kMicrosPerSecond
                             : -((-micros + kMicrosPerSecond - 1) / kMicrosPerSecond);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  return y;
}

namespace {
class SystemClock final : public Clock {
 public:
  int64_t now_micros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t steady_micros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

namespace {
int64_t cpu_micros(clockid_t id) {
  timespec ts{};
  if (::clock_gettime(id, &ts) != 0) return 0;
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}
}  // namespace

int64_t thread_cpu_micros() { return cpu_micros(CLOCK_THREAD_CPUTIME_ID); }
int64_t process_cpu_micros() { return cpu_micros(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace pinstream::core
