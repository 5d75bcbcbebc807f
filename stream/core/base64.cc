#include "stream/core/base64.h"

#include <array>
#include <cstdint>

namespace pinstream::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint32_t kBad = 0xFFFFFFFFu;

// Each table holds a character's 6 bits already shifted to its place in a 24-bit group, so
// a group is four lookups OR-ed together; an invalid character sets all bits (kBad).
struct Tables {
  std::array<uint32_t, 256> t[4];
};

constexpr Tables make_tables() {
  Tables tb{};
  for (int k = 0; k < 4; ++k)
    for (auto& v : tb.t[k]) v = kBad;
  for (uint32_t i = 0; i < 64; ++i) {
    auto ch = static_cast<unsigned char>(kAlphabet[i]);
    tb.t[0][ch] = i << 18;
    tb.t[1][ch] = i << 12;
    tb.t[2][ch] = i << 6;
    tb.t[3][ch] = i;
  }
  return tb;
}

constexpr Tables kTables = make_tables();

inline uint32_t lookup(int k, char c) { return kTables.t[k][static_cast<unsigned char>(c)]; }

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  if (in.empty()) return true;
  size_t pad = in[in.size() - 1] == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  size_t full = in.size() / 4 - (pad ? 1 : 0);  // groups without padding
  out.resize(in.size() / 4 * 3 - pad);
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  const char* src = in.data();
  uint32_t bad = 0;
  for (size_t g = 0; g < full; ++g, src += 4, dst += 3) {
    uint32_t v = lookup(0, src[0]) | lookup(1, src[1]) | lookup(2, src[2]) | lookup(3, src[3]);
    bad |= v & 0xFF000000u;  // any invalid character leaves high bits set
    dst[0] = static_cast<unsigned char>(v >> 16);
    dst[1] = static_cast<unsigned char>(v >> 8);
    dst[2] = static_cast<unsigned char>(v);
  }
  if (bad) return false;
  if (pad) {
    uint32_t v = lookup(0, src[0]) | lookup(1, src[1]);
    if (pad == 1) v |= lookup(2, src[2]);
    if (v & 0xFF000000u) return false;
    dst[0] = static_cast<unsigned char>(v >> 16);
    if (pad == 1) dst[1] = static_cast<unsigned char>(v >> 8);
  }
  return true;
}

void base64_encode(std::string_view in, std::string& out) {
  size_t start = out.size();
  out.resize(start + (in.size() + 2) / 3 * 4);
  char* dst = out.data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3, dst += 4) {
    uint32_t v = (uint32_t{src[i]} << 16) | (uint32_t{src[i + 1]} << 8) | src[i + 2];
    dst[0] = kAlphabet[v >> 18];
    dst[1] = kAlphabet[(v >> 12) & 63];
    dst[2] = kAlphabet[(v >> 6) & 63];
    dst[3] = kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t v = uint32_t{src[i]} << 16;
    if (rest == 2) v |= uint32_t{src[i + 1]} << 8;
    dst[0] = kAlphabet[v >> 18];
    dst[1] = kAlphabet[(v >> 12) & 63];
    dst[2] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    dst[3] = '=';
  }
}

}  // namespace pinstream::core
