#include "stream/query/answer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace pinstream::runtime {
using nlohmann::json;

namespace {

json cell(const core::Value& v) {
  switch (v.type) {
    case core::Type::kNull: return nullptr;
    case core::Type::kLong: return v.i;
    case core::Type::kDouble: return v.d;
    case core::Type::kBool: return v.b;
    case core::Type::kString: return v.s;
    case core::Type::kTimestamp: return v.to_string();
    case core::Type::kDoubleArray: return v.arr;
    default: return nullptr;
  }
}

std::string text(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
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

}  // namespace

std::string answer_json(const state::ViewResult& result, int64_t epoch) {
  json rows = json::array();
  for (const auto& r : result.rows) {
    json row = json::array();
    for (const auto& v : r) row.push_back(cell(v));
    rows.push_back(std::move(row));
  }
  json j = {{"ok", true}, {"epoch", epoch}, {"columns", result.columns}, {"rows", std::move(rows)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_json(const std::string& code, const std::string& message) {
  json j = {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool render_answer(const std::string& line, const std::string& format, std::string& out) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out = "malformed answer: " + line;
    return false;
  }
  if (!j.value("ok", false)) {
    const json& e = j.contains("error") ? j["error"] : json::object();
    out = e.value("code", std::string("error")) + ": " + e.value("message", std::string(""));
    if (format == "json") out = line;
    return false;
  }
  if (format == "json" || !j.contains("columns")) {
    out = line;
    return true;
  }
  std::vector<std::string> cols = j["columns"].get<std::vector<std::string>>();
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : j["rows"]) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(text(v));
    rows.push_back(std::move(row));
  }
  std::ostringstream os;
  if (format == "csv") {
    for (size_t c = 0; c < cols.size(); ++c) os << (c ? "," : "") << csv_field(cols[c]);
    os << "\n";
    for (const auto& r : rows) {
      for (size_t c = 0; c < r.size(); ++c) os << (c ? "," : "") << csv_field(r[c]);
      os << "\n";
    }
  } else {
    std::vector<size_t> width(cols.size());
    for (size_t c = 0; c < cols.size(); ++c) width[c] = width_of(cols[c]);
    for (const auto& r : rows)
      for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], width_of(r[c]));
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
    os << "(" << rows.size() << " rows, epoch " << j.value("epoch", int64_t{0}) << ")\n";
  }
  out = os.str();
  return true;
}

}  // namespace pinstream::runtime
