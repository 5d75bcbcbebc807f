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

void put_i64(std::string& out, int64_t v) { put_u64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63)); }

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
    case Type::kTimestamp: put_i64(out, v.i); break;
    case Type::kDouble: put_u64(out, ordered_double(v.d)); break;
    case Type::kBool: out.push_back(v.b ? 1 : 0); break;
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
    default: break;
  }
}

bool decode_value(std::string_view& in, core::Value& v) {
  if (in.empty()) return false;
  auto t = static_cast<Type>(in[0]);
  in.remove_prefix(1);
  switch (t) {
    case Type::kNull: v.set_null(); return true;
    case Type::kLong:
    case Type::kTimestamp: {
      int64_t x;
      if (!get_i64(in, x)) return false;
      if (t == Type::kLong) v.set_long(x);
      else v.set_timestamp(x);
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
    default: return false;
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

}  // namespace pinstream::state
