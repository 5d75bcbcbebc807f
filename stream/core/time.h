// Timestamps as int64 microseconds since the Unix epoch (UTC), and the clock the runtime
// reads. Time is injected (Clock) so tests can drive epochs and expiries by hand.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinstream::core {

// Parses "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS", optionally followed by a fraction
// of up to 9 digits (kept to micros) and "Z" or "+00:00"/"-HH:MM" offsets; also a bare
// "YYYY-MM-DD". Returns nullopt for anything else, including impossible dates.
std::optional<int64_t> parse_timestamp(std::string_view text);

// "2021-03-04T05:00:00", with ".ffffff" only when the micros part is non-zero.
std::string format_timestamp(int64_t micros);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// Calendar year of a timestamp.
int64_t year_of(int64_t micros);

constexpr int64_t kMicrosPerSecond = 1'000'000;

// CPU time consumed so far by the calling thread / by the whole process, in micros
// (measurements for metrics, not inputs to any decision, hence not behind Clock).
int64_t thread_cpu_micros();
int64_t process_cpu_micros();

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in micros since the epoch.
  virtual int64_t now_micros() const = 0;
  // Monotonic time in micros (arbitrary origin).
  virtual int64_t steady_micros() const = 0;
};

// The real clock; never null, lives forever.
const Clock& system_clock();

// A clock that tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 0) : now_(start_micros) {}
  int64_t now_micros() const override { return now_.load(); }
  int64_t steady_micros() const override { return now_.load(); }
  void advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;  // read by the engine's two threads
};

}  // namespace pinstream::core
