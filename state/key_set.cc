#include "state/key_set.h"

#include <limits>

namespace pinstream::state {

namespace {

constexpr int64_t kEmpty = std::numeric_limits<int64_t>::min();

size_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<size_t>(x);
}

int64_t high_of(int64_t key) { return key >> 16; }  // arithmetic: negative keys group too
uint32_t low_of(int64_t key) { return static_cast<uint32_t>(static_cast<uint64_t>(key) & 0xFFFF); }

}  // namespace

uint64_t* KeySet::find_block(int64_t hi) const {
  if (last_bits_ && last_hi_ == hi) return last_bits_;
  if (block_slots_.empty()) return nullptr;
  size_t mask = block_slots_.size() - 1;
  for (size_t i = mix(static_cast<uint64_t>(hi)) & mask;; i = (i + 1) & mask) {
    const BlockSlot& s = block_slots_[i];
    if (!s.bits) return nullptr;
    if (s.hi == hi) {
      last_hi_ = hi;
      last_bits_ = s.bits;
      return s.bits;
    }
  }
}

uint64_t* KeySet::add_block(int64_t hi) {
  if ((blocks_.size() + 1) * 2 > block_slots_.size()) grow_blocks();
  blocks_.push_back(std::make_unique<uint64_t[]>(kBlockWords));  // zeroed
  uint64_t* bits = blocks_.back().get();
  size_t mask = block_slots_.size() - 1;
  size_t i = mix(static_cast<uint64_t>(hi)) & mask;
  while (block_slots_[i].bits) i = (i + 1) & mask;
  block_slots_[i] = BlockSlot{hi, bits};
  last_hi_ = hi;
  last_bits_ = bits;
  return bits;
}

void KeySet::grow_blocks() {
  std::vector<BlockSlot> old(block_slots_.empty() ? 8 : block_slots_.size() * 2);
  old.swap(block_slots_);
  size_t mask = block_slots_.size() - 1;
  for (const BlockSlot& s : old) {
    if (!s.bits) continue;
    size_t i = mix(static_cast<uint64_t>(s.hi)) & mask;
    while (block_slots_[i].bits) i = (i + 1) & mask;
    block_slots_[i] = s;
  }
}

bool KeySet::contains(int64_t key) const {
  if (hashed_) return hash_contains(key);
  const uint64_t* bits = find_block(high_of(key));
  if (!bits) return false;
  uint32_t lo = low_of(key);
  return (bits[lo >> 6] >> (lo & 63)) & 1;
}

bool KeySet::insert(int64_t key) {
  if (hashed_) return hash_insert(key);
  int64_t hi = high_of(key);
  uint64_t* bits = find_block(hi);
  if (!bits) {
    // A new block costs 8 KiB: worth it only while bitmaps stay under 16 bytes a key.
    if ((blocks_.size() + 1) * kBlockWords * 8 > (64u << 10) + (size_ + 1) * 16) {
      to_hash();
      return hash_insert(key);
    }
    bits = add_block(hi);
  }
  uint32_t lo = low_of(key);
  uint64_t& word = bits[lo >> 6];
  uint64_t bit = uint64_t{1} << (lo & 63);
  if (word & bit) return false;
  word |= bit;
  ++size_;
  return true;
}

void KeySet::to_hash() {
  std::vector<int64_t> keys;
  keys.reserve(size_);
  for (const BlockSlot& s : block_slots_) {
    if (!s.bits) continue;
    for (size_t w = 0; w < kBlockWords; ++w)
      for (uint64_t word = s.bits[w]; word; word &= word - 1)
        keys.push_back(s.hi * 65536 +
                       static_cast<int64_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
  }
  std::vector<BlockSlot>().swap(block_slots_);
  std::vector<std::unique_ptr<uint64_t[]>>().swap(blocks_);
  last_bits_ = nullptr;
  hashed_ = true;
  size_ = 0;
  for (int64_t k : keys) hash_insert(k);
}

bool KeySet::hash_contains(int64_t key) const {
  if (key == kEmpty) return has_empty_key_;
  if (slots_.empty()) return false;
  size_t mask = slots_.size() - 1;
  for (size_t i = mix(static_cast<uint64_t>(key)) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == key) return true;
    if (slots_[i] == kEmpty) return false;
  }
}

bool KeySet::hash_insert(int64_t key) {
  if (key == kEmpty) {
    bool fresh = !has_empty_key_;
    has_empty_key_ = true;
    size_ += fresh ? 1 : 0;
    return fresh;
  }
  if ((size_ + 1) * 2 > slots_.size()) grow_hash();
  size_t mask = slots_.size() - 1;
  for (size_t i = mix(static_cast<uint64_t>(key)) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == key) return false;
    if (slots_[i] == kEmpty) {
      slots_[i] = key;
      ++size_;
      return true;
    }
  }
}

void KeySet::grow_hash() {
  std::vector<int64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, kEmpty);
  size_t mask = slots_.size() - 1;
  for (int64_t k : old) {
    if (k == kEmpty) continue;
    size_t i = mix(static_cast<uint64_t>(k)) & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = k;
  }
}

void KeySet::clear() {
  std::vector<std::unique_ptr<uint64_t[]>>().swap(blocks_);
  std::vector<BlockSlot>().swap(block_slots_);
  last_bits_ = nullptr;
  std::vector<int64_t>().swap(slots_);
  has_empty_key_ = false;
  hashed_ = false;
  size_ = 0;
}

size_t KeySet::memory_bytes() const {
  return blocks_.size() * kBlockWords * 8 + block_slots_.size() * sizeof(BlockSlot) +
         slots_.size() * 8;
}

}  // namespace pinstream::state
