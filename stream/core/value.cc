#include "stream/core/value.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "stream/core/time.h"

namespace pinstream::core {

const char* type_name(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kLong:
      return "long";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBool:
      return "bool";
    case Type::kTimestamp:
      return "timestamp";
    case Type::kDoubleArray:
      return "array<double>";
    case Type::kAny:
      return "any";
  }
  return "?";
}

Type type_from_name(std::string_view n) {
  if (n == "long" || n == "int64" || n == "bigint") return Type::kLong;
  if (n == "double") return Type::kDouble;
  if (n == "string") return Type::kString;
  if (n == "bool" || n == "boolean") return Type::kBool;
  if (n == "timestamp") return Type::kTimestamp;
  if (n == "array<double>" || n == "array") return Type::kDoubleArray;
  if (n == "any") return Type::kAny;
  return Type::kNull;
}

bool Value::operator==(const Value& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::kNull:
      return true;
    case Type::kLong:
    case Type::kTimestamp:
      return i == o.i;
    case Type::kDouble:
      return d == o.d || (std::isnan(d) && std::isnan(o.d));
    case Type::kBool:
      return b == o.b;
    case Type::kString:
      return s == o.s;
    case Type::kDoubleArray:
      return arr == o.arr;
    case Type::kAny:
      return true;
  }
  return false;
}

int Value::compare(const Value& o) const {
  if (type != o.type) return type < o.type ? -1 : 1;
  switch (type) {
    case Type::kLong:
    case Type::kTimestamp:
      return i < o.i ? -1 : (i > o.i ? 1 : 0);
    case Type::kDouble:
      return d < o.d ? -1 : (d > o.d ? 1 : 0);
    case Type::kBool:
      return b == o.b ? 0 : (b ? 1 : -1);
    case Type::kString: {
      int c = s.compare(o.s);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kDoubleArray:
      return arr < o.arr ? -1 : (o.arr < arr ? 1 : 0);
    default:
      return 0;
  }
}

std::string Value::to_string() const {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kLong:
      return std::to_string(i);
    case Type::kDouble: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    case Type::kBool:
      return b ? "true" : "false";
    case Type::kString:
      return s;
    case Type::kTimestamp:
      return format_timestamp(i);
    case Type::kDoubleArray: {
      std::string out = "[";
      for (size_t k = 0; k < arr.size(); ++k) {
        if (k) out += ',';
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, arr[k]);
        out.append(buf, r.ptr);
      }
      return out + "]";
    }
    case Type::kAny:
      return "?";
  }
  return "?";
}

std::string Value::to_quoted() const {
  if (type == Type::kString) return "\"" + s + "\"";
  return to_string();
}

namespace {

bool parse_long_text(std::string_view t, int64_t& out, bool& overflow) {
  overflow = false;
  if (t.empty()) return false;
  const char* b = t.data();
  const char* e = b + t.size();
  if (*b == '+') ++b;
  if (b == e) return false;
  auto r = std::from_chars(b, e, out);
  if (r.ec == std::errc::result_out_of_range) {
    overflow = true;
    return false;
  }
  return r.ec == std::errc() && r.ptr == e;
}

bool parse_double_text(std::string_view t, double& out) {
  if (t.empty()) return false;
  const char* b = t.data();
  const char* e = b + t.size();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

Status fail(const Value& v, const char* what) {
  return Status::invalid(v.to_quoted() + " " + what);
}

}  // namespace

Status coerce(Value& v, Type to) {
  if (v.type == Type::kNull || to == Type::kAny || v.type == to) return Status::ok();
  switch (to) {
    case Type::kLong: {
      if (v.type == Type::kDouble) {
        if (std::trunc(v.d) != v.d) return fail(v, "is not an integer (fractional)");
        if (!(v.d >= -9.2233720368547758e18 && v.d < 9.2233720368547758e18))
          return fail(v, "is out of range for long");
        v.set_long(static_cast<int64_t>(v.d));
        return Status::ok();
      }
      if (v.type == Type::kString) {
        int64_t x;
        bool overflow;
        if (parse_long_text(v.s, x, overflow)) {
          v.set_long(x);
          return Status::ok();
        }
        return fail(v, overflow ? "is out of range for long" : "is not an integer");
      }
      return fail(v, "is not an integer");
    }
    case Type::kDouble: {
      if (v.type == Type::kLong) {
        v.set_double(static_cast<double>(v.i));
        return Status::ok();
      }
      if (v.type == Type::kString) {
        double x;
        if (parse_double_text(v.s, x)) {
          v.set_double(x);
          return Status::ok();
        }
      }
      return fail(v, "is not a number");
    }
    case Type::kString:
      return fail(v, "is not a string");
    case Type::kBool: {
      if (v.type == Type::kString && (v.s == "true" || v.s == "false")) {
        v.set_bool(v.s == "true");
        return Status::ok();
      }
      return fail(v, "is not a boolean");
    }
    case Type::kTimestamp: {
      if (v.type == Type::kLong) {
        v.set_timestamp(v.i);
        return Status::ok();
      }
      if (v.type == Type::kString) {
        if (auto t = parse_timestamp(v.s)) {
          v.set_timestamp(*t);
          return Status::ok();
        }
      }
      return fail(v, "is not a timestamp (expected YYYY-MM-DD HH:MM:SS or ISO-8601)");
    }
    case Type::kDoubleArray:
      return fail(v, "is not an array of doubles");
    case Type::kNull:
    case Type::kAny:
      break;
  }
  return Status::ok();
}

}  // namespace pinstream::core
