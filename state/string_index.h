// A flat open-addressing index from string keys to values that hold their own key (e.g.
// iterators into a std::map keyed by the string), for the aggregates' group lookup: one
// probe of a contiguous array of (hash, value) and one compare of the key the value points
// to, instead of std::unordered_map's modulo, chain of separately allocated nodes and a
// copy of every key. Linear probing with backward-shift deletion (no tombstones); the full
// 64-bit hash is kept per slot, so most mismatches never touch the key. `KeyOf` maps a
// value to its key (std::string_view). Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "stream/core/hash.h"

namespace pinstream::state {

template <class V, class KeyOf>
class StringIndex {
 public:
  // The value of `key`, or nullptr.
  V* find(std::string_view key) {
    if (size_ == 0) return nullptr;
    const uint64_t h = hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == h && KeyOf()(s.value) == key) return &s.value;
    }
  }
  // Adds `value` under its key, which must not be present.
  void insert(V value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(hash(KeyOf()(value)), value);
    ++size_;
  }
  // Removes `key` if present; the entries after it in its run move back into the gap.
  void erase(std::string_view key) {
    if (size_ == 0) return;
    const uint64_t h = hash(key);
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].hash == 0) return;
      if (slots_[i].hash == h && KeyOf()(slots_[i].value) == key) break;
    }
    for (size_t j = (i + 1) & mask_; slots_[j].hash != 0; j = (j + 1) & mask_) {
      // The entry at j may fill the gap at i when its home is not in (i, j] (cyclically).
      const size_t home = slots_[j].hash & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
  }
  size_t size() const { return size_; }

  // Never 0 (0 marks an empty slot).
  static uint64_t hash(std::string_view v) {
    const uint64_t h = core::hash_bytes(v);
    return h != 0 ? h : 1;
  }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    V value{};
  };
  void place(uint64_t h, const V& value) {
    size_t i = h & mask_;
    while (slots_[i].hash != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{h, value};
  }
  void grow() {
    std::vector<Slot> old(slots_.empty() ? 64 : slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.hash != 0) place(s.hash, s.value);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace pinstream::state
