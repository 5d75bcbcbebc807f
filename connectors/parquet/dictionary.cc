#include "connectors/parquet/dictionary.h"

#include <algorithm>
#include <cstring>

#include "connectors/parquet/encoding.h"

namespace pinstream::connectors::parquet {
namespace {
// The last 1..7 bytes of a value as one word for hashing (not their little-endian value):
// whole-word loads, overlapping when the value is at least 8 bytes long. A memcpy of a
// variable length into a word compiled to byte stores followed by a word load that missed
// store forwarding: 45% of the lookup's time.
inline uint64_t tail_word(const char* p, size_t n, size_t total) {
  uint64_t w;
  if (total >= 8) {
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

// Hash of a dictionary value: 8 bytes at a time, multiply-xorshift mixing.
uint32_t hash_bytes(std::string_view v) {
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
    h = (h ^ tail_word(p, n, v.size())) * 0x94D049BB133111EBull;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace

uint32_t StringDictionary::index(std::string_view v, bool& added) {
  if (count_ * 2 >= slots_.size()) grow();
  const uint32_t h = hash_bytes(v);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.index1 == 0) {
      auto index = static_cast<uint32_t>(count_++);
      put_le32(plain_, static_cast<uint32_t>(v.size()));
      s = Slot{h, index + 1, static_cast<uint32_t>(plain_.size()), static_cast<uint32_t>(v.size())};
      plain_.append(v.data(), v.size());
      added = true;
      return index;
    }
    if (s.hash == h && s.length == v.size() &&
        std::memcmp(plain_.data() + s.offset, v.data(), v.size()) == 0) {
      added = false;
      return s.index1 - 1;
    }
  }
}

void StringDictionary::grow() {
  std::vector<Slot> old(std::max<size_t>(64, slots_.size() * 2));
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index1 == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].index1 != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringDictionary::clear() {
  slots_.clear();
  count_ = 0;
  plain_.clear();
}

}  // namespace pinstream::connectors::parquet
