// The typed value model shared by every stage: a Value is one cell of a Row.
// Values are designed to be reused: a Row kept across records keeps its string and array
// capacity, so the hot path does not allocate per field once warmed up.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/core/status.h"

namespace pinstream::core {

enum class Type : uint8_t {
  kNull = 0,  // only as a Value's kind: a cell holding no data
  kLong,      // int64
  kDouble,    // IEEE double
  kString,    // UTF-8
  kBool,
  kTimestamp,    // int64 microseconds since the Unix epoch, UTC
  kDoubleArray,  // array<double>
  kAny,          // schema only: whatever the JSON holds (decoded as its natural type)
};

// "long", "double", "string", "bool", "timestamp", "array<double>", "any", "null".
const char* type_name(Type t);
// Inverse of type_name (also accepts "boolean", "int64", "array"); kNull if unknown.
Type type_from_name(std::string_view name);

struct Value {
  Type type = Type::kNull;
  union {
    int64_t i;  // kLong, kTimestamp
    double d;   // kDouble
    bool b;     // kBool
  };
  std::string s;            // kString
  std::vector<double> arr;  // kDoubleArray

  Value() : i(0) {}
  static Value null() { return Value(); }
  static Value of_long(int64_t v) {
    Value x;
    x.set_long(v);
    return x;
  }
  static Value of_double(double v) {
    Value x;
    x.set_double(v);
    return x;
  }
  static Value of_bool(bool v) {
    Value x;
    x.set_bool(v);
    return x;
  }
  static Value of_string(std::string_view v) {
    Value x;
    x.set_string(v);
    return x;
  }
  static Value of_timestamp(int64_t micros) {
    Value x;
    x.set_timestamp(micros);
    return x;
  }
  static Value of_array(std::vector<double> v) {
    Value x;
    x.type = Type::kDoubleArray;
    x.arr = std::move(v);
    return x;
  }

  bool is_null() const { return type == Type::kNull; }
  void set_null() { type = Type::kNull; }
  void set_long(int64_t v) {
    type = Type::kLong;
    i = v;
  }
  void set_double(double v) {
    type = Type::kDouble;
    d = v;
  }
  void set_bool(bool v) {
    type = Type::kBool;
    b = v;
  }
  void set_timestamp(int64_t micros) {
    type = Type::kTimestamp;
    i = micros;
  }
  void set_string(std::string_view v) {
    type = Type::kString;
    // Values are reused slot by slot: one huge string must not keep its buffer for every
    // small one after it (realistic input has rare 1 MB fields: peak memory grew with the
    // input's length).
    if (s.capacity() > kKeptCapacity && v.size() <= kKeptCapacity)
      std::string(v).swap(s);
    else
      s.assign(v.data(), v.size());
  }
  // The largest string buffer a reused value keeps.
  static constexpr size_t kKeptCapacity = 64 * 1024;

  // Value equality (a null equals a null); doubles compare bitwise-equal values.
  bool operator==(const Value& o) const;
  // Total order within one type: null first, then by value. Different types order by type.
  int compare(const Value& o) const;
  // A readable rendering for logs, errors and tables: strings unquoted, timestamps as
  // ISO-8601 "2021-03-04T05:00:00" (fraction only when non-zero), arrays as "[1,2]".
  std::string to_string() const;
  // The same value quoted for an error message: strings in double quotes.
  std::string to_quoted() const;

  // Member-wise (std::swap's three moves of a whole Value cost 5% of a pipeline's CPU in
  // the cleaner, which swaps cells into place). The union's bytes are swapped whole, so
  // whichever member is active moves with them.
  friend void swap(Value& a, Value& b) noexcept {
    std::swap(a.type, b.type);
    char tmp[sizeof(a.i)];
    std::memcpy(tmp, &a.i, sizeof tmp);
    std::memcpy(&a.i, &b.i, sizeof tmp);
    std::memcpy(&b.i, tmp, sizeof tmp);
    a.s.swap(b.s);
    a.arr.swap(b.arr);
  }
};

// Converts `v` in place to type `to` by the pipeline's cast rules:
// long  <- long, double without fraction within range, string of an optional sign + digits;
// double <- long, double, numeric string; string <- string (other kinds are rejected);
// bool <- bool, "true"/"false"; timestamp <- timestamp, long (micros), string in
// "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS" (optional .ffffff and Z/+00:00);
// any <- anything. Null stays null. On failure returns InvalidArgument with a reason such
// as `"twenty" is not an integer` (the caller prefixes the field name) and leaves v as is.
Status coerce(Value& v, Type to);

}  // namespace pinstream::core
