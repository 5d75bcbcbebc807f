// Byte-level Parquet encodings (Encodings.md): little-endian PLAIN values, ULEB128 varints
// and the RLE/bit-packing hybrid used for definition/repetition levels and dictionary
// indices, plus its decoder (for reading our own checkpoints back).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pinstream::connectors::parquet {

inline void put_le32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 4);
}
inline void put_le64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 8);
}
inline void put_double(std::string& out, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  put_le64(out, u);
}
inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// An append-only byte buffer for a page's values. Appending a fixed-width value is a
// bounds check and a store; std::string::append(p, 8) cost 4% of a whole pipeline's CPU.
class ByteBuffer {
 public:
  void put_le32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    append(b, 4);
  }
  void put_le64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    append(b, 8);
  }
  void append(const char* p, size_t n) {
    if (size_ + n > cap_) grow(n);
    std::memcpy(data_.get() + size_, p, n);
    size_ += n;
  }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }  // keeps the capacity

 private:
  void grow(size_t n) {
    size_t cap = std::max(cap_ * 2, size_ + n + 256);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (size_) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  size_t size_ = 0, cap_ = 0;
};

// Bytes kept in fixed blocks of 64 KiB: a column chunk's finished pages. Growing one string
// of many MiB reallocates and copies it at every doubling, and past glibc's mmap threshold
// each new allocation is fresh memory that page-faults again (perf: 2.6% of a pipeline's
// CPU); blocks are never copied, and freed ones go back to the allocator's free lists.
class BlockBuffer {
 public:
  static constexpr size_t kBlockBytes = 64 << 10;
  void append(const char* p, size_t n) {
    while (n > 0) {
      if (blocks_.empty() || last_ == kBlockBytes) {
        blocks_.emplace_back(new char[kBlockBytes]);
        last_ = 0;
      }
      size_t k = std::min(n, kBlockBytes - last_);
      std::memcpy(blocks_.back().get() + last_, p, k);
      last_ += k;
      p += k;
      n -= k;
    }
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  size_t size() const { return blocks_.empty() ? 0 : (blocks_.size() - 1) * kBlockBytes + last_; }
  bool empty() const { return size() == 0; }
  void clear() {
    blocks_.clear();
    last_ = 0;
  }
  // Calls f(std::string_view) for each block's bytes in order; stops at the first error.
  template <class F>
  auto each_block(F&& f) const -> decltype(f(std::string_view())) {
    for (size_t i = 0; i < blocks_.size(); ++i) {
      auto st =
          f(std::string_view(blocks_[i].get(), i + 1 == blocks_.size() ? last_ : kBlockBytes));
      if (!st.is_ok()) return st;
    }
    return decltype(f(std::string_view()))::ok();
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t last_ = 0;  // bytes used in the last block
};

inline uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// Number of bits needed for values 0..max_value (0 for max_value 0).
int bit_width(uint32_t max_value);

// Appends the hybrid encoding of `values` (each < 2^width): RLE runs for repeats of 8 or
// more, bit-packed groups of 8 otherwise. No length prefix.
void encode_hybrid(std::string& out, const uint32_t* values, size_t n, int width);
inline void encode_hybrid(std::string& out, const std::vector<uint32_t>& v, int width) {
  encode_hybrid(out, v.data(), v.size(), width);
}
// Levels of a data page v1: 4-byte little-endian length, then the hybrid encoding.
void encode_levels(std::string& out, const std::vector<uint32_t>& levels, int max_level);
// The same for `count` levels that all equal `level`: one RLE run.
void encode_level_run(std::string& out, size_t count, uint32_t level, int max_level);

// Decodes `n` values of the hybrid encoding from `in`; advances `in`. False on truncation.
bool decode_hybrid(std::string_view& in, size_t n, int width, std::vector<uint32_t>& out);

}  // namespace pinstream::connectors::parquet
