#include "stream/core/config.h"

#include <sstream>

namespace pinstream::core {

ConfigNode ConfigNode::make(Kind kind, std::shared_ptr<const std::string> file, int line, int col,
                            std::string path) {
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
  os << (file_ ? *file_ : std::string("<config>")) << ':' << line_ << ':' << column_ << ": key '"
     << (path_.empty() ? "<root>" : path_) << "': " << message;
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

}  // namespace pinstream::core
