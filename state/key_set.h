// KeySet: the in-memory set of int64 keys behind dedup, laid out by how the keys spread.
// Keys are grouped by their high 48 bits into blocks of 65,536 possible keys. While blocks
// are well filled (dense ids: row indexes, sequence numbers, the Pinterest `ind`), each
// block is a bitmap of 8 KiB, one bit per possible key: 900k dense keys take 112 KiB where
// a hash set takes 16-32 MiB. Once bitmaps would cost more than 16 bytes per key (plus
// 64 KiB of slack), e.g. for random 64-bit keys, the set turns into an open-addressing
// hash set (8 bytes a slot, load <= 1/2) for good. Not thread-safe (lookups cache a block).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace pinstream::state {

class KeySet {
 public:
  bool contains(int64_t key) const;
  // True when inserted (it was absent).
  bool insert(int64_t key);
  size_t size() const { return size_; }
  // Releases everything; the set starts over as bitmaps.
  void clear();
  // True once the keys were too sparse for bitmaps.
  bool hashed() const { return hashed_; }
  // Bytes held by bitmaps or hash slots (for tests and metrics).
  size_t memory_bytes() const;

 private:
  static constexpr size_t kBlockWords = 65536 / 64;
  struct BlockSlot {
    int64_t hi = 0;
    uint64_t* bits = nullptr;  // nullptr: a free slot
  };
  uint64_t* find_block(int64_t hi) const;
  uint64_t* add_block(int64_t hi);
  void grow_blocks();
  void to_hash();
  bool hash_contains(int64_t key) const;
  bool hash_insert(int64_t key);
  void grow_hash();

  size_t size_ = 0;
  bool hashed_ = false;
  // Bitmap mode: blocks found through a small open-addressing table by high bits.
  std::vector<std::unique_ptr<uint64_t[]>> blocks_;
  std::vector<BlockSlot> block_slots_;
  mutable int64_t last_hi_ = 0;
  mutable uint64_t* last_bits_ = nullptr;
  // Hash mode.
  std::vector<int64_t> slots_;  // kEmpty marks a free slot
  bool has_empty_key_ = false;  // the sentinel value itself, stored aside
};

}  // namespace pinstream::state
