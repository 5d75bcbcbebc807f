#include "connectors/parquet/encoding.h"

namespace pinstream::connectors::parquet {

int bit_width(uint32_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

namespace {

void put_rle_run(std::string& out, size_t count, uint32_t value, int width) {
  put_varint(out, uint64_t{count} << 1);
  int bytes = (width + 7) / 8;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// Bit-packs values[0, n) (n padded with zeros to a multiple of 8), LSB first.
void put_bit_packed(std::string& out, const uint32_t* values, size_t n, int width) {
  if (n == 0) return;
  size_t groups = (n + 7) / 8;
  put_varint(out, (uint64_t{groups} << 1) | 1);
  size_t start = out.size();
  out.resize(start + groups * static_cast<size_t>(width));
  char* dst = out.data() + start;
  uint64_t acc = 0;  // pending bits, LSB first
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= uint64_t{values[i]} << bits;
    bits += width;
    while (bits >= 8) {
      *dst++ = static_cast<char>(acc & 0xFF);
      acc >>= 8;
      bits -= 8;
    }
  }
  // The padding values of the last group are zeros.
  for (char* end = out.data() + out.size(); dst < end; acc >>= 8)
    *dst++ = static_cast<char>(acc & 0xFF);
}

}  // namespace

void encode_hybrid(std::string& out, const uint32_t* values, size_t n, int width) {
  if (width == 0) {  // every value is 0: one RLE run with no value bytes
    if (n > 0) put_varint(out, uint64_t{n} << 1);
    return;
  }
  size_t packed_start = 0, i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && values[j] == values[i]) ++j;
    size_t run = j - i;
    if (run >= 8) {
      // An RLE run may only start where the bit-packed section before it ends on a group.
      size_t align = (8 - (i - packed_start) % 8) % 8;
      if (run - align >= 8) {
        put_bit_packed(out, values + packed_start, i + align - packed_start, width);
        put_rle_run(out, run - align, values[i], width);
        packed_start = j;
      }
    }
    i = j;
  }
  put_bit_packed(out, values + packed_start, n - packed_start, width);
}

namespace {
// Writes the byte length of what follows the 4-byte prefix at `at` into that prefix.
void patch_length(std::string& out, size_t at) {
  auto len = static_cast<uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i)
    out[at + static_cast<size_t>(i)] = static_cast<char>((len >> (8 * i)) & 0xFF);
}
}  // namespace

void encode_levels(std::string& out, const std::vector<uint32_t>& levels, int max_level) {
  size_t at = out.size();
  out.append(4, '\0');
  encode_hybrid(out, levels, bit_width(static_cast<uint32_t>(max_level)));
  patch_length(out, at);
}

void encode_level_run(std::string& out, size_t count, uint32_t level, int max_level) {
  size_t at = out.size();
  out.append(4, '\0');
  if (count > 0) put_rle_run(out, count, level, bit_width(static_cast<uint32_t>(max_level)));
  patch_length(out, at);
}

namespace {
bool read_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto c = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{c & 0x7Fu} << shift;
    if ((c & 0x80) == 0) return true;
  }
  return false;
}
}  // namespace

bool decode_hybrid(std::string_view& in, size_t n, int width, std::vector<uint32_t>& out) {
  size_t bytes = static_cast<size_t>((width + 7) / 8);
  size_t done = 0;
  while (done < n) {
    uint64_t header;
    if (!read_varint(in, header)) return false;
    if ((header & 1) == 0) {
      size_t count = header >> 1;
      if (in.size() < bytes) return false;
      auto v = static_cast<uint32_t>(get_le(in.data(), static_cast<int>(bytes)));
      in.remove_prefix(bytes);
      for (size_t k = 0; k < count && done < n; ++k, ++done) out.push_back(v);
    } else {
      size_t count = (header >> 1) * 8;
      size_t len = (header >> 1) * static_cast<size_t>(width);
      if (in.size() < len) return false;
      const char* p = in.data();
      for (size_t k = 0; k < count && done < n; ++k, ++done) {
        uint32_t v = 0;
        size_t bit = k * static_cast<size_t>(width);
        for (int b = 0; b < width; ++b, ++bit)
          if ((static_cast<unsigned char>(p[bit / 8]) >> (bit % 8)) & 1) v |= 1u << b;
        out.push_back(v);
      }
      in.remove_prefix(len);
    }
  }
  return true;
}

}  // namespace pinstream::connectors::parquet
