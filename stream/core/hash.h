// A fast non-cryptographic hash of bytes for in-memory tables (the aggregates' group index,
// the Parquet string dictionary): 8 bytes at a time, multiply-xorshift mixing. Values are
// never stored, so the function may change between versions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace pinstream::core {

// The last 1..7 bytes of a value as one word (not their little-endian value):
// whole-word loads, overlapping when the value is at least 8 bytes long. A memcpy of a
// variable length into a word compiled to byte stores followed by a word load that missed
// store forwarding: 45% of the lookup's time.
inline uint64_t hash_tail_word(const char* p, size_t n, size_t total) {
  uint64_t w;
  if (total >= 8) {  // the last 8 bytes of the value, overlapping words already mixed
    std::memcpy(&w, p + n - 8, 8);
    return w;
  }
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | uint64_t{hi} << 32;
  }
  auto b = [&](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
  return b(0) | b(n / 2) << 8 | b(n - 1) << 16;
}

inline uint64_t hash_bytes(std::string_view v) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ v.size();
  const char* p = v.data();
  size_t n = v.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (n) {
    h = (h ^ hash_tail_word(p, n, v.size())) * 0x94D049BB133111EBull;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

}  // namespace pinstream::core
