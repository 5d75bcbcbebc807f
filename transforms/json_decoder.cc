#include "transforms/json_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace pinstream::transforms {
using core::Status;
using core::Type;
namespace od = simdjson::ondemand;

namespace {

// Full validation of a JSON text (on-demand validates only what it reads) that may nest
// `max_depth` containers; the DOM parser is created on first use, as only rare paths need
// it. simdjson's DOM parser is iterative, with a stack of max_depth entries.
simdjson::error_code validate_json(std::unique_ptr<simdjson::dom::parser>& dom,
                                   std::string_view text, size_t max_depth) {
  if (!dom) dom = std::make_unique<simdjson::dom::parser>();
  if (dom->max_depth() != max_depth) {
    if (auto e = dom->allocate(std::max<size_t>(dom->capacity(), text.size() + 1), max_depth))
      return e;
  }
  simdjson::dom::element e;
  return dom->parse(text.data(), text.size(), true).get(e);
}

}  // namespace

struct JsonDecoder::Impl {
  od::parser parser;
  std::unique_ptr<simdjson::dom::parser> dom;
  std::vector<char> buffer;  // the record plus simdjson's padding, reused
};

JsonDecoder::JsonDecoder(core::Schema input, size_t max_record_bytes, bool rescue)
    : impl_(std::make_unique<Impl>()),
      input_(std::move(input)),
      max_bytes_(max_record_bytes),
      present_(input_.size(), 0),
      rescue_(rescue) {}

JsonDecoder::~JsonDecoder() = default;

namespace {

Status invalid_json(simdjson::error_code e) {
  if (e == simdjson::DEPTH_ERROR)
    return Status::invalid("too_deep: JSON nests deeper than " +
                           std::to_string(JsonDecoder::kMaxDepth) + " levels");
  return Status::invalid(std::string("invalid JSON: ") + simdjson::error_message(e));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// JSON's integer grammar: -?(0|[1-9][0-9]*).
bool is_integer_literal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty() || (s.size() > 1 && s.front() == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Status field_error(const core::Field& f, const std::string& what) {
  return Status::invalid("field '" + f.name + "': " + what);
}

// Reads and validates a value nobody asked for (it is skipped, but must be valid JSON).
// `depth` is the nesting level of `v` (the record object is level 1); the recursion stops
// at JsonDecoder::kMaxDepth, so a hostile record cannot exhaust the stack.
simdjson::error_code skip_value(od::value v, size_t depth) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  if ((t == od::json_type::array || t == od::json_type::object) && depth > JsonDecoder::kMaxDepth)
    return simdjson::DEPTH_ERROR;
  switch (t) {
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto item : a) {
        od::value x;
        if (auto e = item.get(x)) return e;
        if (auto e = skip_value(x, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto field : o) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (auto e = skip_value(field.value(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      double d;
      if (v.get_double().get(d) == simdjson::SUCCESS) return simdjson::SUCCESS;
      // Valid but beyond double's range (1e400, huge integers) is still JSON.
      std::string_view tok = trim(v.raw_json_token());
      return is_integer_literal(tok) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

Status read_number(od::value v, const core::Field& f, core::Value& out) {
  int64_t i;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    out.set_long(i);
    return Status::ok();
  }
  std::string_view tok = trim(v.raw_json_token());
  if (is_integer_literal(tok) && (f.type == Type::kLong || f.type == Type::kTimestamp))
    return field_error(f, std::string(tok) + " is out of range for long");
  double d;
  if (v.get_double().get(d) == simdjson::SUCCESS) {
    out.set_double(d);
    return Status::ok();
  }
  if (is_integer_literal(tok)) return field_error(f, std::string(tok) + " is out of range");
  return invalid_json(simdjson::NUMBER_ERROR);
}

// Reads one declared field's JSON value into `out` by its JSON type; the declared-type
// conversion happens afterwards.
Status read_value(od::value v, const core::Field& f, core::Value& out,
                  std::unique_ptr<simdjson::dom::parser>& dom) {
  od::json_type t;
  if (auto e = v.type().get(t)) return invalid_json(e);
  switch (t) {
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return invalid_json(e);
      out.set_string(s);
      return Status::ok();
    }
    case od::json_type::number:
      return read_number(v, f, out);
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return invalid_json(e);
      out.set_bool(b);
      return Status::ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return invalid_json(e);
      if (!is_null) return invalid_json(simdjson::N_ATOM_ERROR);
      out.set_null();
      return Status::ok();
    }
    case od::json_type::array:
    case od::json_type::object: {
      const char* what = t == od::json_type::array ? "an array" : "an object";
      if (f.type != Type::kAny)
        return field_error(f, std::string(what) + " is not a " + core::type_name(f.type));
      std::string_view raw;
      simdjson::error_code e;
      if (t == od::json_type::array) {
        od::array a;
        e = v.get_array().get(a);
        if (!e) e = a.raw_json().get(raw);
      } else {
        od::object o;
        e = v.get_object().get(o);
        if (!e) e = o.raw_json().get(raw);
      }
      // The value is level 2 of the record: it may nest one level less than the record.
      if (!e) e = validate_json(dom, raw, JsonDecoder::kMaxDepth - 1);
      if (e) return invalid_json(e);
      out.set_string(trim(raw));  // `any` keeps nested JSON as its text
      return Status::ok();
    }
  }
  return invalid_json(simdjson::INCORRECT_TYPE);
}

// Appends `"key":value` (the key escaped for JSON, the value already JSON text).
void append_rescued(std::string& to, std::string_view key, std::string_view value) {
  to += to.empty() ? "{\"" : ",\"";
  for (char ch : key) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      to += '\\';
      to += ch;
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      to += "\\u00";
      to += kHex[u >> 4];
      to += kHex[u & 15];
    } else {
      to += ch;
    }
  }
  to += "\":";
  to += value;
}

// An unexpected field is validated and skipped; with `rescued` its key and value are also
// appended there, as written (escapes kept).
Status skip_or_rescue(od::field& field, std::string_view key, std::string* rescued,
                      std::unique_ptr<simdjson::dom::parser>& dom) {
  od::value v = field.value();
  std::string_view raw;
  if (rescued) {
    od::json_type t;
    if (auto e = v.type().get(t)) return invalid_json(e);
    if (t == od::json_type::array || t == od::json_type::object) {
      core::Value text;
      PS_RETURN_IF_ERROR(read_value(v, core::Field{"", Type::kAny, true}, text, dom));
      append_rescued(*rescued, key, text.s);
      return Status::ok();
    }
    raw = trim(v.raw_json_token());
  }
  if (auto e = skip_value(v, 2)) return invalid_json(e);
  if (rescued) append_rescued(*rescued, key, raw);
  return Status::ok();
}

// Whether `a` and `b` (of `n` bytes each) are equal: field names are short, so they are
// compared 8 bytes at a time (the last load overlapping) instead of by a call to memcmp,
// which cost 3.7% of a realistic run's CPU at a dozen names per record (bench/README.md,
// "Allocator: fewer pages given back").
inline bool same_name(const char* a, const char* b, size_t n) {
  auto load8 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8)
      if (load8(a + i) != load8(b + i)) return false;
    return load8(a + n - 8) == load8(b + n - 8);
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}
}  // namespace

int JsonDecoder::lookup(std::string_view key) {
  const size_t n = input_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = hint_ + k < n ? hint_ + k : hint_ + k - n;
    const std::string& name = input_.field(i).name;
    if (name.size() == key.size() && same_name(name.data(), key.data(), key.size())) {
      hint_ = i + 1 < n ? i + 1 : 0;
      return static_cast<int>(i);
    }
  }
  return -1;
}

Status JsonDecoder::decode(std::string_view raw, core::Row& row) {
  if (raw.size() > max_bytes_)
    return Status::invalid("record of " + std::to_string(raw.size()) +
                           " bytes exceeds max_record_bytes " + std::to_string(max_bytes_));
  // A UTF-8 byte order mark (editors on Windows write one) is not part of the JSON text.
  if (raw.size() >= 3 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.remove_prefix(3);
  for (size_t i = 0; i < input_.size(); ++i) {
    row[i].set_null();
    present_[i] = 0;
  }
  std::vector<char>& buf = impl_->buffer;
  if (buf.size() < raw.size() + simdjson::SIMDJSON_PADDING)
    buf.resize(raw.size() + simdjson::SIMDJSON_PADDING);
  if (!raw.empty()) std::memcpy(buf.data(), raw.data(), raw.size());
  std::memset(buf.data() + raw.size(), 0, simdjson::SIMDJSON_PADDING);
  // simdjson's first pass validates the UTF-8 of the whole text, so a decoded record is valid
  // UTF-8; only a failed one is checked again, for invalid UTF-8 to win over any other reason
  // (one pass over the bytes instead of two).
  Status st = decode_object(raw.size(), row);
  if (!st.is_ok() && !simdjson::validate_utf8(raw.data(), raw.size()))
    return Status::invalid("invalid UTF-8");
  return st;
}

Status JsonDecoder::decode_object(size_t length, core::Row& row) {
  std::vector<char>& buf = impl_->buffer;
  od::document doc;
  if (auto e = impl_->parser.iterate(buf.data(), length, buf.size()).get(doc))
    return invalid_json(e);
  od::json_type t;
  if (auto e = doc.type().get(t)) return invalid_json(e);
  if (t != od::json_type::object) {
    if (auto e = validate_json(impl_->dom, std::string_view(buf.data(), length), kMaxDepth))
      return invalid_json(e);
    return Status::invalid("not a JSON object");
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) return invalid_json(e);
  hint_ = 0;
  rescued_.clear();
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return invalid_json(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return invalid_json(e);
    int idx = lookup(key);
    if (idx < 0) {
      PS_RETURN_IF_ERROR(skip_or_rescue(field, key, rescue_ ? &rescued_ : nullptr, impl_->dom));
      continue;
    }
    auto i = static_cast<size_t>(idx);
    const core::Field& f = input_.field(i);
    PS_RETURN_IF_ERROR(read_value(field.value(), f, row[i], impl_->dom));
    present_[i] = 1;
    if (f.type != Type::kAny) {
      Status st = core::coerce(row[i], f.type);
      if (!st.is_ok()) return field_error(f, st.message());
    }
  }
  if (!rescued_.empty()) rescued_ += '}';
  // Anything after the object (a second value, stray brackets) makes the record invalid.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS && rest != nullptr)
    return Status::invalid("invalid JSON: content after the object");
  return Status::ok();
}

}  // namespace pinstream::transforms
