// A flat open-addressing map from int64 keys to uint32 slot numbers, for the join's waiting
// entries: one probe of a contiguous array per lookup (std::unordered_map walks a chain of
// separately allocated nodes, a cache miss per node), no allocation per insert, linear
// probing with backward-shift deletion (no tombstones, so lookups never slow down with
// erased keys). Keys are spread with a multiplicative (Fibonacci) hash, so the sequential
// keys of a replay do not form long runs. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace pinstream::state {

class IntMap {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The value of `key`, or kNone.
  uint32_t find(int64_t key) const {
    if (size_ == 0) return kNone;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (s.key == key) return s.value;
    }
  }
  // Sets `key` to `value` (value != kNone); the key must not be present.
  void insert(int64_t key, uint32_t value) {
    if ((size_ + 1) * 8 > slots_.size() * 7) grow();
    size_t i = home(key);
    while (slots_[i].value != kNone) i = (i + 1) & mask_;
    slots_[i] = Slot{key, value};
    ++size_;
  }
  // Removes `key` if present; the entries after it in its run move back into the gap.
  void erase(int64_t key) {
    if (size_ == 0) return;
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].value == kNone) return;
      if (slots_[i].key == key) break;
    }
    for (size_t j = (i + 1) & mask_; slots_[j].value != kNone; j = (j + 1) & mask_) {
      // The entry at j may fill the gap at i when its home is not in (i, j] (cyclically).
      size_t h = home(slots_[j].key);
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].value = kNone;
    --size_;
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    int64_t key = 0;
    uint32_t value = kNone;
  };
  size_t home(int64_t key) const {
    return static_cast<size_t>((static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    const size_t n = old.empty() ? 1024 : old.size() * 2;
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    shift_ = 64;
    for (size_t k = n; k > 1; k >>= 1) --shift_;
    size_ = 0;
    for (const Slot& s : old)
      if (s.value != kNone) insert(s.key, s.value);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace pinstream::state
