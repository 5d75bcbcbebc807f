// The daemon's choice of what to compact (optimize.h): size tiers, their fan-in, the
// trigger with room for the files that land while a round runs, and that room's estimate.
#include <algorithm>
#include <limits>
#include <map>

#include "connectors/delta/optimize.h"

namespace pinstream::connectors::delta {

int size_tier(int64_t size, int64_t fan_in, int64_t target) {
  const int64_t f = std::max<int64_t>(2, fan_in);
  int tier = 0;
  for (int64_t low = target / f; size < low && low >= f; low /= f) ++tier;
  return tier;
}

int64_t trigger_files(const OptimizeOptions& opts) {
  const int64_t room = opts.tiered ? std::clamp<int64_t>(opts.headroom, 0, opts.min_files / 4) : 0;
  return std::max<int64_t>(2, opts.min_files - room);
}

int64_t tier_fan_in(int64_t smallest, const OptimizeOptions& opts) {
  const int64_t trigger = trigger_files(opts);
  for (int64_t f = opts.min_files; f >= 2; --f) {
    const int64_t tiers = size_tier(smallest, f, opts.target_file_bytes) + 1;
    if (tiers * (f - 1) < trigger) return f;
  }
  return 0;
}

std::vector<AddFile> select_tiered(const std::vector<AddFile>& small, const OptimizeOptions& opts) {
  const auto n = static_cast<int64_t>(small.size());
  const bool triggered = n >= trigger_files(opts);
  if (n < 2 || (!triggered && opts.cascade_from <= 0)) return {};
  int64_t smallest = small.front().size;
  for (const auto& a : small) smallest = std::min(smallest, a.size);
  const int64_t f = tier_fan_in(smallest, opts);
  // No fan-in fits: every small file, only at the trigger (a cascade would rewrite its own
  // output again and again).
  if (f == 0) return triggered ? small : std::vector<AddFile>{};
  const int64_t target = opts.target_file_bytes;
  // Before the trigger, only the cascade's tier and those above it (larger files).
  const int cascade =
      triggered ? std::numeric_limits<int>::max() : size_tier(opts.cascade_from, f, target);
  std::map<int, int64_t> counts;
  for (const auto& a : small) ++counts[size_tier(a.size, f, target)];
  // The smallest files first: the cheapest round, and its output may fill the next tier.
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    if (it->second < f || it->first > cascade) continue;
    std::vector<AddFile> out;
    for (const auto& a : small)
      if (size_tier(a.size, f, target) == it->first) out.push_back(a);
    return out;
  }
  // Unreachable at the trigger (see optimize.h); the bound still holds.
  return triggered ? small : std::vector<AddFile>{};
}

HeadroomEstimate::HeadroomEstimate(int64_t floor, size_t window)
    : floor_(floor), window_(std::max<size_t>(1, window)) {}

int64_t HeadroomEstimate::value() const {
  int64_t v = floor_;
  for (int64_t n : seen_) v = std::max(v, n);
  return v;
}

void HeadroomEstimate::observe(int64_t needed) {
  seen_.push_back(needed);
  while (seen_.size() > window_) seen_.pop_front();
}

}  // namespace pinstream::connectors::delta
