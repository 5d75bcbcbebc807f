// A minimal Thrift compact-protocol encoder: just what Parquet's FileMetaData and page
// headers need (structs, i32/i64/bool/binary fields, lists). Write-only by design.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinstream::connectors::parquet {

class ThriftWriter {
 public:
  enum : uint8_t {
    kTrue = 1,
    kFalse = 2,
    kI32 = 5,
    kI64 = 6,
    kDouble = 7,
    kBinary = 8,
    kList = 9,
    kStruct = 12
  };

  void field_i32(int16_t id, int32_t v) {
    header(id, kI32);
    varint(zigzag(v));
  }
  void field_i64(int16_t id, int64_t v) {
    header(id, kI64);
    varint(zigzag(v));
  }
  void field_bool(int16_t id, bool v) { header(id, v ? kTrue : kFalse); }
  void field_binary(int16_t id, std::string_view v) {
    header(id, kBinary);
    binary(v);
  }
  void begin_struct(int16_t id) {
    header(id, kStruct);
    push();
  }
  void end_struct() {
    out_.push_back(0);
    pop();
  }
  // A list field: call list_header, then for each element struct_begin()/end_struct() or
  // i32/binary.
  void begin_list(int16_t id, uint8_t elem_type, size_t size) {
    header(id, kList);
    if (size < 15)
      out_.push_back(static_cast<char>((size << 4) | elem_type));
    else {
      out_.push_back(static_cast<char>(0xF0 | elem_type));
      varint(size);
    }
  }
  void list_struct_begin() { push(); }
  void list_i32(int32_t v) { varint(zigzag(v)); }
  void list_binary(std::string_view v) { binary(v); }
  void end_message() { out_.push_back(0); }  // stop of the top-level struct

  std::string& out() { return out_; }

 private:
  static uint64_t zigzag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void binary(std::string_view v) {
    varint(v.size());
    out_.append(v.data(), v.size());
  }
  void header(int16_t id, uint8_t type) {
    int16_t delta = static_cast<int16_t>(id - last_.back());
    if (delta > 0 && delta <= 15)
      out_.push_back(static_cast<char>((delta << 4) | type));
    else {
      out_.push_back(static_cast<char>(type));
      varint(zigzag(id));
    }
    last_.back() = id;
  }
  void push() { last_.push_back(0); }
  void pop() { last_.pop_back(); }

  std::string out_;
  std::vector<int16_t> last_{0};
};

}  // namespace pinstream::connectors::parquet
