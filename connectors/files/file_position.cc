#include "connectors/files/file_position.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace pinstream::connectors::files {
using nlohmann::json;

bool parse_position(const std::string& position, std::string& file, int64_t& line) {
  size_t colon = position.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == position.size()) return false;
  char* end = nullptr;
  long long v = std::strtoll(position.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || v < 0) return false;
  file = position.substr(0, colon);
  line = v;
  return true;
}

std::string encode_position(const FilePosition& p) {
  using ordered = nlohmann::ordered_json;  // "file", "line", "done" in this order
  ordered done = ordered::array();
  const std::string* prev = nullptr;
  for (const std::string& name : p.done) {
    size_t shared = 0;
    if (prev)
      while (shared < prev->size() && shared < name.size() && (*prev)[shared] == name[shared])
        ++shared;
    done.push_back(ordered::array({shared, name.substr(shared)}));
    prev = &name;
  }
  ordered j = {{"file", p.file}, {"line", p.line}, {"done", std::move(done)}};
  return j.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

bool decode_position(const std::string& text, FilePosition& out) {
  out = FilePosition{};
  if (text.empty() || text.front() != '{') {
    out.legacy = true;
    return parse_position(text, out.file, out.line);
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {  // an old position of a file whose name starts with '{'
    out.legacy = true;
    return parse_position(text, out.file, out.line);
  }
  if (!j.is_object()) return false;
  auto file = j.find("file");
  auto line = j.find("line");
  auto done = j.find("done");
  if (file == j.end() || !file->is_string() || line == j.end() || !line->is_number_integer() ||
      done == j.end() || !done->is_array())
    return false;
  out.file = file->get<std::string>();
  out.line = line->get<int64_t>();
  if (out.line < 0) return false;
  std::string prev;
  for (const json& e : *done) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() || !e[1].is_string())
      return false;
    auto shared = e[0].get<size_t>();
    if (shared > prev.size()) return false;
    prev = prev.substr(0, shared) + e[1].get<std::string>();
    out.done.push_back(prev);
  }
  return true;
}

}  // namespace pinstream::connectors::files
