// The Thrift compact protocol as the Parquet reader needs it (footers and page headers):
// a decoded value tree. Internal to connectors/parquet.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pinstream::connectors::parquet::thrift {

// A decoded Thrift compact value: integers, binaries, lists and structs (by field id).
struct TValue {
  int64_t i = 0;
  std::string bin;
  std::vector<TValue> list;
  std::map<int16_t, TValue> fields;
  const TValue* get(int16_t id) const {
    auto it = fields.find(id);
    return it == fields.end() ? nullptr : &it->second;
  }
  int64_t num(int16_t id, int64_t dflt = 0) const {
    const TValue* v = get(id);
    return v ? v->i : dflt;
  }
};

class ThriftReader {
 public:
  explicit ThriftReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t consumed(std::string_view start) const { return start.size() - in_.size(); }
  bool read_struct(TValue& out, int depth = 0) {
    int16_t last = 0;
    while (ok_) {
      uint8_t b = byte();
      if (b == 0) return ok_;
      uint8_t type = b & 0x0F;
      int16_t delta = static_cast<int16_t>(b >> 4);
      int16_t id =
          delta ? static_cast<int16_t>(last + delta) : static_cast<int16_t>(unzigzag(varint()));
      last = id;
      if (!read_value(type, out.fields[id], depth + 1)) return false;
    }
    return false;
  }

 private:
  uint8_t byte() {
    if (in_.empty()) {
      ok_ = false;
      return 0;
    }
    auto b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int s = 0; s < 64 && ok_; s += 7) {
      uint8_t b = byte();
      v |= uint64_t{b & 0x7Fu} << s;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  static int64_t unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  bool read_value(uint8_t type, TValue& v, int depth) {
    if (depth > 32) return ok_ = false;
    switch (type) {
      case 1:
        v.i = 1;
        return true;  // bool true (in a struct field header)
      case 2:
        v.i = 0;
        return true;
      case 3:
        v.i = static_cast<int8_t>(byte());
        return ok_;
      case 4:
      case 5:
      case 6:
        v.i = unzigzag(varint());
        return ok_;
      case 7:
        if (in_.size() < 8) return ok_ = false;
        in_.remove_prefix(8);
        return true;
      case 8: {
        uint64_t n = varint();
        if (n > in_.size()) return ok_ = false;
        v.bin.assign(in_.data(), n);
        in_.remove_prefix(n);
        return ok_;
      }
      case 9:
      case 10: {
        uint8_t h = byte();
        uint64_t n = h >> 4;
        if (n == 15) n = varint();
        uint8_t et = h & 0x0F;
        if (n > in_.size() + 1) return ok_ = false;
        v.list.resize(n);
        for (auto& e : v.list) {
          if (et == 1 || et == 2)
            e.i = byte() == 1;
          else if (!read_value(et, e, depth))
            return false;
        }
        return ok_;
      }
      case 12:
        return read_struct(v, depth);
      default:
        return ok_ = false;  // maps never occur in the metadata we read
    }
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace pinstream::connectors::parquet::thrift
