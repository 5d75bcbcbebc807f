#include "state/codec.h"

#include <cstring>

namespace pinstream::state {
using core::Type;

void put_u64(std::string& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xFF));
}

bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(8);
  return true;
}

void put_i64(std::string& out, int64_t v) {
  put_u64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

bool get_i64(std::string_view& in, int64_t& v) {
  uint64_t u;
  if (!get_u64(in, u)) return false;
  v = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  return true;
}

namespace {

uint64_t ordered_double(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return (u & (uint64_t{1} << 63)) ? ~u : u | (uint64_t{1} << 63);
}

double unordered_double(uint64_t u) {
  u = (u & (uint64_t{1} << 63)) ? u & ~(uint64_t{1} << 63) : ~u;
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

}  // namespace

void encode_value(std::string& out, const core::Value& v) {
  out.push_back(static_cast<char>(v.type));
  switch (v.type) {
    case Type::kLong:
    case Type::kTimestamp:
      put_i64(out, v.i);
      break;
    case Type::kDouble:
      put_u64(out, ordered_double(v.d));
      break;
    case Type::kBool:
      out.push_back(v.b ? 1 : 0);
      break;
    case Type::kString:
      for (char c : v.s) {
        out.push_back(c);
        if (c == '\0') out.push_back('\xFF');
      }
      out.push_back('\0');
      out.push_back('\x01');
      break;
    case Type::kDoubleArray:
      put_u64(out, v.arr.size());
      for (double d : v.arr) put_u64(out, ordered_double(d));
      break;
    default:
      break;
  }
}

bool decode_value(std::string_view& in, core::Value& v) {
  if (in.empty()) return false;
  auto t = static_cast<Type>(in[0]);
  in.remove_prefix(1);
  switch (t) {
    case Type::kNull:
      v.set_null();
      return true;
    case Type::kLong:
    case Type::kTimestamp: {
      int64_t x;
      if (!get_i64(in, x)) return false;
      if (t == Type::kLong)
        v.set_long(x);
      else
        v.set_timestamp(x);
      return true;
    }
    case Type::kDouble: {
      uint64_t u;
      if (!get_u64(in, u)) return false;
      v.set_double(unordered_double(u));
      return true;
    }
    case Type::kBool:
      if (in.empty()) return false;
      v.set_bool(in[0] != 0);
      in.remove_prefix(1);
      return true;
    case Type::kString: {
      v.type = Type::kString;
      v.s.clear();
      for (size_t i = 0; i + 1 < in.size(); ++i) {
        if (in[i] == '\0') {
          if (in[i + 1] == '\x01') {
            in.remove_prefix(i + 2);
            return true;
          }
          v.s.push_back('\0');
          ++i;
          continue;
        }
        v.s.push_back(in[i]);
      }
      return false;
    }
    case Type::kDoubleArray: {
      uint64_t n;
      if (!get_u64(in, n) || in.size() < n * 8) return false;
      v.type = Type::kDoubleArray;
      v.arr.resize(n);
      for (auto& d : v.arr) {
        uint64_t u = 0;
        get_u64(in, u);
        d = unordered_double(u);
      }
      return true;
    }
    default:
      return false;
  }
}

void encode_row(std::string& out, const core::Row& row) {
  put_u64(out, row.size());
  for (const auto& v : row) encode_value(out, v);
}

bool decode_row(std::string_view in, core::Row& row) {
  uint64_t n;
  if (!get_u64(in, n) || n > (1u << 20)) return false;
  row.resize(n);
  for (auto& v : row)
    if (!decode_value(in, v)) return false;
  return in.empty();
}

namespace {
void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
bool get_u32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<size_t>(i)]);
  in.remove_prefix(4);
  return true;
}
// The next entry of a packed histogram; false at the end or on malformed input (`bad`).
bool next_entry(std::string_view& in, std::string_view& value, int64_t& count, bool& bad) {
  if (in.empty()) return false;
  uint32_t len = 0;
  if (!get_u32(in, len) || in.size() < len) return !(bad = true);
  value = in.substr(0, len);
  in.remove_prefix(len);
  if (!get_i64(in, count)) return !(bad = true);
  return true;
}
}  // namespace

void put_histogram(std::string& out,
                   const std::vector<std::pair<std::string_view, int64_t>>& sorted_entries) {
  out.push_back('P');
  for (const auto& [value, count] : sorted_entries) {
    put_u32(out, static_cast<uint32_t>(value.size()));
    out.append(value);
    put_i64(out, count);
  }
}

bool is_histogram(std::string_view packed) { return !packed.empty() && packed[0] == 'P'; }

bool for_each_histogram_entry(std::string_view packed,
                              const std::function<void(std::string_view, int64_t)>& fn) {
  if (!is_histogram(packed)) return false;
  packed.remove_prefix(1);
  std::string_view value;
  int64_t count = 0;
  bool bad = false;
  while (next_entry(packed, value, count, bad)) fn(value, count);
  return !bad;
}

bool merge_histograms(std::string_view a, std::string_view b, std::string& out) {
  if (!is_histogram(a) || !is_histogram(b)) return false;
  a.remove_prefix(1);
  b.remove_prefix(1);
  out.assign(1, 'P');
  std::string_view va, vb;
  int64_t na = 0, nb = 0;
  bool bad = false;
  bool ha = next_entry(a, va, na, bad), hb = next_entry(b, vb, nb, bad);
  auto emit = [&](std::string_view v, int64_t n) {
    put_u32(out, static_cast<uint32_t>(v.size()));
    out.append(v);
    put_i64(out, n);
  };
  while (ha || hb) {
    if (hb && (!ha || vb < va)) {
      emit(vb, nb);
      hb = next_entry(b, vb, nb, bad);
    } else if (ha && (!hb || va < vb)) {
      emit(va, na);
      ha = next_entry(a, va, na, bad);
    } else {
      emit(va, na + nb);
      ha = next_entry(a, va, na, bad);
      hb = next_entry(b, vb, nb, bad);
    }
  }
  return !bad;
}

}  // namespace pinstream::state
