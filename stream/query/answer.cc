#include "stream/query/answer.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pinstream::runtime {
using nlohmann::json;

namespace {

constexpr auto kReplace = json::error_handler_t::replace;

struct CodeInfo {
  ErrorCode code;
  const char* name;
  int http;
  core::StatusCode status;  // what a client reading the answer back makes of it
};

constexpr CodeInfo kCodes[] = {
    {ErrorCode::kBadRequest, "bad_request", 400, core::StatusCode::kInvalidArgument},
    {ErrorCode::kBadParams, "bad_params", 400, core::StatusCode::kInvalidArgument},
    {ErrorCode::kUnknownView, "unknown_view", 404, core::StatusCode::kNotFound},
    {ErrorCode::kUnavailable, "unavailable", 503, core::StatusCode::kUnavailable},
    {ErrorCode::kInternal, "internal", 500, core::StatusCode::kInternal},
    {ErrorCode::kRequestTooLarge, "request_too_large", 413, core::StatusCode::kInternal},
    {ErrorCode::kBusy, "busy", 503, core::StatusCode::kUnavailable},
    {ErrorCode::kNotFound, "not_found", 404, core::StatusCode::kInternal},
    {ErrorCode::kUnauthorized, "unauthorized", 401, core::StatusCode::kInternal},
    {ErrorCode::kMethodNotAllowed, "method_not_allowed", 405, core::StatusCode::kInternal},
};

const CodeInfo& info(ErrorCode code) {
  for (const CodeInfo& c : kCodes)
    if (c.code == code) return c;
  return kCodes[4];  // internal
}

json cell(const core::Value& v) {
  switch (v.type) {
    case core::Type::kNull:
      return nullptr;
    case core::Type::kLong:
      return v.i;
    case core::Type::kDouble:
      return v.d;
    case core::Type::kBool:
      return v.b;
    case core::Type::kString:
      return v.s;
    case core::Type::kTimestamp:
      return v.to_string();
    case core::Type::kDoubleArray:
      return v.arr;
    default:
      return nullptr;
  }
}

// A string as the JSON line carries it: invalid UTF-8 replaced (only strings with non-ASCII
// bytes can be invalid, and a dump without the replace handler throws on them).
std::string as_in_json(const std::string& s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return s;
  try {
    (void)json(s).dump();
    return s;
  } catch (const json::type_error&) {
    return json::parse(json(s).dump(-1, ' ', false, kReplace)).get<std::string>();
  }
}

// A cell's text in CSV and the table: what its JSON value reads as (null and a number
// without a JSON form, NaN or infinity, are empty).
std::string text(const core::Value& v) {
  switch (v.type) {
    case core::Type::kNull:
      return "";
    case core::Type::kString:
      return as_in_json(v.s);
    case core::Type::kTimestamp:
      return v.to_string();
    case core::Type::kDouble:
      if (!std::isfinite(v.d)) return "";
      return json(v.d).dump();
    default:
      return cell(v).dump();
  }
}

// Display width: code points, not bytes (country names carry accents).
size_t width_of(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::vector<std::string>> texts(const Answer& a) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(a.rows.size());
  for (const auto& r : a.rows) {
    std::vector<std::string> row;
    row.reserve(r.size());
    for (const auto& v : r) row.push_back(text(v));
    rows.push_back(std::move(row));
  }
  return rows;
}

core::Result<core::Value> cell_from(const json& v) {
  if (v.is_null()) return core::Value();
  if (v.is_string()) return core::Value::of_string(v.get<std::string>());
  if (v.is_boolean()) return core::Value::of_bool(v.get<bool>());
  if (v.is_number_integer()) return core::Value::of_long(v.get<int64_t>());
  if (v.is_number()) return core::Value::of_double(v.get<double>());
  if (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number(); }))
    return core::Value::of_array(v.get<std::vector<double>>());
  if (v.is_array()) return core::Value::of_string(v.dump());  // reads as it printed
  return core::Status::corruption("an answer cell is an object");
}

}  // namespace

const char* error_code_name(ErrorCode code) { return info(code).name; }

ErrorCode view_error_code(const core::Status& status) {
  switch (status.code()) {
    case core::StatusCode::kNotFound:
      return ErrorCode::kUnknownView;
    case core::StatusCode::kInvalidArgument:
      return ErrorCode::kBadParams;
    case core::StatusCode::kUnavailable:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

int http_status(ErrorCode code) { return info(code).http; }

std::string answer_json(const Answer& a) {
  json rows = json::array();
  for (const auto& r : a.rows) {
    json row = json::array();
    for (const auto& v : r) row.push_back(cell(v));
    rows.push_back(std::move(row));
  }
  json j = {{"ok", true},
            {"epoch", a.epoch},
            {"columns", a.columns},
            {"rows", std::move(rows)},
            {"tasks", {{"covered", a.tasks.covered}, {"total", a.tasks.total}}}};
  if (!a.tasks.missing.empty()) {
    json missing = json::array();
    for (const auto& [task, reason] : a.tasks.missing)
      missing.push_back({{"task", task}, {"reason", reason}});
    j["tasks"]["missing"] = std::move(missing);
  }
  return j.dump(-1, ' ', false, kReplace);
}

std::string error_json(ErrorCode code, std::string_view message) {
  json j = {{"ok", false},
            {"error", {{"code", error_code_name(code)}, {"message", std::string(message)}}}};
  return j.dump(-1, ' ', false, kReplace);
}

std::string answer_csv(const Answer& a) {
  std::ostringstream os;
  for (size_t c = 0; c < a.columns.size(); ++c)
    os << (c ? "," : "") << csv_field(as_in_json(a.columns[c]));
  os << "\n";
  for (const auto& r : texts(a)) {
    for (size_t c = 0; c < r.size(); ++c) os << (c ? "," : "") << csv_field(r[c]);
    os << "\n";
  }
  return os.str();
}

std::string answer_table(const Answer& a) {
  std::vector<std::string> cols;
  for (const auto& c : a.columns) cols.push_back(as_in_json(c));
  const auto rows = texts(a);
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) width[c] = width_of(cols[c]);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], width_of(r[c]));
  std::ostringstream os;
  auto line_out = [&](const std::vector<std::string>& r) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) {
      os << (c ? "  " : "") << r[c];
      if (c + 1 < r.size()) os << std::string(width[c] - width_of(r[c]), ' ');
    }
    os << "\n";
  };
  line_out(cols);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line_out(rule);
  for (const auto& r : rows) line_out(r);
  os << "(" << rows.size() << " rows, epoch " << a.epoch << ")\n";
  return os.str();
}

namespace {

core::Status status_of(const json& j, std::string_view line) {
  if (j.is_discarded() || !j.is_object())
    return core::Status::corruption("malformed answer: " + std::string(line));
  if (j.value("ok", false)) return core::Status::ok();
  const json& e = j.contains("error") && j["error"].is_object() ? j["error"] : json::object();
  const std::string code = e.value("code", std::string("error"));
  core::StatusCode kind = core::StatusCode::kInternal;
  for (const CodeInfo& c : kCodes)
    if (code == c.name) kind = c.status;
  return core::Status(kind, code + ": " + e.value("message", std::string()));
}

}  // namespace

core::Status answer_status(std::string_view line) {
  try {
    return status_of(json::parse(line, nullptr, false), line);
  } catch (const json::exception&) {  // "code" or "message" not strings
    return core::Status::corruption("malformed answer: " + std::string(line));
  }
}

core::Result<Answer> parse_answer(std::string_view line) {
  try {
    json j = json::parse(line, nullptr, false);
    PS_RETURN_IF_ERROR(status_of(j, line));
    Answer a;
    a.epoch = j.value("epoch", int64_t{0});
    if (j.contains("tasks") && j["tasks"].is_object()) {
      a.tasks.covered = j["tasks"].value("covered", int64_t{1});
      a.tasks.total = j["tasks"].value("total", int64_t{1});
      if (j["tasks"].contains("missing") && j["tasks"]["missing"].is_array())
        for (const auto& m : j["tasks"]["missing"])
          if (m.is_object() && m["task"].is_number_integer() && m["reason"].is_string())
            a.tasks.missing.emplace_back(m["task"].get<int32_t>(), m["reason"].get<std::string>());
    }
    a.columns = j.at("columns").get<std::vector<std::string>>();
    for (const auto& r : j.at("rows")) {
      core::Row row;
      for (const auto& v : r) {
        PS_ASSIGN_OR_RETURN(core::Value cell_value, cell_from(v));
        row.push_back(std::move(cell_value));
      }
      a.rows.push_back(std::move(row));
    }
    return a;
  } catch (const json::exception&) {
    return core::Status::corruption("malformed answer: " + std::string(line));
  }
}

}  // namespace pinstream::runtime
