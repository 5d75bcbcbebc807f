#include "stream/core/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace pinstream::core {

ConfigNode ConfigNode::make(Kind kind, std::shared_ptr<const std::string> file, int line,
                            int col, std::string path) {
  ConfigNode n;
  n.kind_ = kind;
  n.file_ = std::move(file);
  n.line_ = line;
  n.column_ = col;
  n.path_ = std::move(path);
  return n;
}

const ConfigNode* ConfigNode::find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  if (used_.size() != map_.size()) used_.resize(map_.size(), false);
  for (size_t i = 0; i < map_.size(); ++i) {
    if (map_[i].first == key) {
      used_[i] = true;
      return &map_[i].second;
    }
  }
  return nullptr;
}

Status ConfigNode::error(std::string_view message) const {
  std::ostringstream os;
  os << (file_ ? *file_ : std::string("<config>")) << ':' << line_ << ':' << column_
     << ": key '" << (path_.empty() ? "<root>" : path_) << "': " << message;
  return Status::invalid(os.str());
}

Result<std::string> ConfigNode::as_string() const {
  if (kind_ != Kind::kScalar) return error("expected a string");
  return scalar_;
}

Result<int64_t> ConfigNode::as_int() const {
  if (kind_ != Kind::kScalar) return error("expected an integer");
  try {
    size_t pos = 0;
    long long v = std::stoll(scalar_, &pos);
    if (pos != scalar_.size()) return error("expected an integer, got '" + scalar_ + "'");
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    return error("expected an integer, got '" + scalar_ + "'");
  }
}

Result<double> ConfigNode::as_double() const {
  if (kind_ != Kind::kScalar) return error("expected a number");
  try {
    size_t pos = 0;
    double v = std::stod(scalar_, &pos);
    if (pos != scalar_.size()) return error("expected a number, got '" + scalar_ + "'");
    return v;
  } catch (const std::exception&) {
    return error("expected a number, got '" + scalar_ + "'");
  }
}

Result<bool> ConfigNode::as_bool() const {
  if (kind_ == Kind::kScalar) {
    if (scalar_ == "true" || scalar_ == "yes" || scalar_ == "on") return true;
    if (scalar_ == "false" || scalar_ == "no" || scalar_ == "off") return false;
  }
  return error("expected true or false");
}

Result<std::vector<std::string>> ConfigNode::as_string_list() const {
  std::vector<std::string> out;
  if (kind_ == Kind::kScalar) {
    out.push_back(scalar_);
    return out;
  }
  if (kind_ != Kind::kSequence) return error("expected a list of strings");
  for (const auto& item : seq_) {
    PS_ASSIGN_OR_RETURN(std::string s, item.as_string());
    out.push_back(std::move(s));
  }
  return out;
}

Result<const ConfigNode*> ConfigNode::get(std::string_view key) const {
  if (kind_ != Kind::kMap) return error("expected a map with key '" + std::string(key) + "'");
  const ConfigNode* n = find(key);
  if (!n) return error("missing required key '" + std::string(key) + "'");
  return n;
}

Result<std::string> ConfigNode::get_string(std::string_view key) const {
  PS_ASSIGN_OR_RETURN(const ConfigNode* n, get(key));
  return n->as_string();
}

Result<std::string> ConfigNode::get_string(std::string_view key, std::string def) const {
  const ConfigNode* n = find(key);
  if (!n || n->is_null()) return def;
  return n->as_string();
}

Result<int64_t> ConfigNode::get_int(std::string_view key) const {
  PS_ASSIGN_OR_RETURN(const ConfigNode* n, get(key));
  return n->as_int();
}

Result<int64_t> ConfigNode::get_int(std::string_view key, int64_t def) const {
  const ConfigNode* n = find(key);
  if (!n || n->is_null()) return def;
  return n->as_int();
}

Result<double> ConfigNode::get_double(std::string_view key, double def) const {
  const ConfigNode* n = find(key);
  if (!n || n->is_null()) return def;
  return n->as_double();
}

Result<bool> ConfigNode::get_bool(std::string_view key, bool def) const {
  const ConfigNode* n = find(key);
  if (!n || n->is_null()) return def;
  return n->as_bool();
}

Status ConfigNode::reject_unknown_keys() const {
  if (kind_ != Kind::kMap) return Status::ok();
  if (used_.size() != map_.size()) used_.resize(map_.size(), false);
  for (size_t i = 0; i < map_.size(); ++i) {
    if (!used_[i]) return map_[i].second.error("unknown key '" + map_[i].first + "'");
  }
  return Status::ok();
}

Result<std::string> expand_env(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i + 2);
    size_t nl = text.find('\n', i + 2);
    if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close))
      return Status::invalid("line " + std::to_string(line) + ": unterminated ${...}");
    std::string_view ref = text.substr(i + 2, close - i - 2);
    std::string_view name = ref;
    std::optional<std::string_view> def;
    if (size_t p = ref.find(":-"); p != std::string_view::npos) {
      name = ref.substr(0, p);
      def = ref.substr(p + 2);
    }
    const char* v = std::getenv(std::string(name).c_str());
    if (v && *v) {
      out += v;
    } else if (def) {
      out += *def;
    } else {
      return Status::invalid("line " + std::to_string(line) + ": environment variable '" +
                             std::string(name) + "' is not set and has no default");
    }
    i = close;
  }
  return out;
}

namespace {

ConfigNode convert(const YAML::Node& y, const std::shared_ptr<const std::string>& file,
                   const std::string& path) {
  const YAML::Mark m = y.Mark();
  ConfigNode::Kind kind = ConfigNode::Kind::kNull;
  if (y.IsMap()) kind = ConfigNode::Kind::kMap;
  else if (y.IsSequence()) kind = ConfigNode::Kind::kSequence;
  else if (y.IsScalar()) kind = ConfigNode::Kind::kScalar;
  ConfigNode n = ConfigNode::make(kind, file, m.line + 1, m.column + 1, path);
  if (y.IsScalar()) n.set_scalar(y.Scalar());
  if (y.IsMap()) {
    for (const auto& kv : y) {
      std::string key = kv.first.Scalar();
      n.add_entry(key, convert(kv.second, file, path.empty() ? key : path + "." + key));
    }
  } else if (y.IsSequence()) {
    size_t i = 0;
    for (const auto& item : y)
      n.add_item(convert(item, file, path + "[" + std::to_string(i++) + "]"));
  }
  return n;
}

}  // namespace

Result<ConfigNode> parse_config_text(std::string_view text, const std::string& name) {
  auto expanded = expand_env(text);
  if (!expanded) return Status::invalid(name + ":" + expanded.error().message());
  auto file = std::make_shared<const std::string>(name);
  try {
    YAML::Node root = YAML::Load(*expanded);
    return convert(root, file, "");
  } catch (const YAML::Exception& e) {
    return Status::invalid(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<ConfigNode> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid(path + ": cannot open configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config_text(ss.str(), path);
}

}  // namespace pinstream::core
