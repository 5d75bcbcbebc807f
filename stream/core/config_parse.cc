// Reading a configuration: `${VAR}` expansion, YAML parsing (yaml-cpp stays in this file) and
// conversion into ConfigNode trees. A configuration is untrusted input: its size, its
// nesting and what its aliases expand to are bounded before anything big is built.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <unordered_set>

#include "stream/core/config.h"

namespace pinstream::core {
namespace {

struct EnvError {
  int line = 1, column = 1;
  std::string message;
};

std::optional<EnvError> expand_into(std::string_view text, std::string& out) {
  out.reserve(text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    int column = static_cast<int>(i - line_start) + 1;
    size_t close = text.find('}', i + 2);
    size_t nl = text.find('\n', i + 2);
    if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close))
      return EnvError{line, column, "unterminated ${...}; close it with '}' on the same line"};
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
      std::string n(name);
      return EnvError{line, column,
                      "environment variable '" + n +
                          "' is not set and has no default; set it or write ${" + n + ":-default}"};
    }
    i = close;
  }
  return std::nullopt;
}

// Builds the ConfigNode tree. yaml-cpp shares one node for every use of an alias; this walk
// copies it each time, so a few hundred bytes of nested aliases would expand to gigabytes:
// nodes and bytes built are counted and refused past kMaxConfigNodes/kMaxConfigExpandedBytes.
class Converter {
 public:
  explicit Converter(std::shared_ptr<const std::string> file) : file_(std::move(file)) {}

  Result<ConfigNode> convert(const YAML::Node& y, const std::string& path, int depth) {
    const YAML::Mark m = y.Mark();
    if (depth > kMaxConfigDepth)
      return at(m, path,
                "nested deeper than " + std::to_string(kMaxConfigDepth) +
                    " levels; flatten the configuration");
    bytes_ += path.size() + (y.IsScalar() ? y.Scalar().size() : 0);
    if (++nodes_ > kMaxConfigNodes || bytes_ > kMaxConfigExpandedBytes)
      return at(m, path,
                "the configuration expands to more than " + std::to_string(kMaxConfigNodes) +
                    " nodes or " + std::to_string(kMaxConfigExpandedBytes >> 20) +
                    " MiB (YAML aliases of aliases?); repeat fewer or smaller aliases");
    ConfigNode::Kind kind = ConfigNode::Kind::kNull;
    if (y.IsMap())
      kind = ConfigNode::Kind::kMap;
    else if (y.IsSequence())
      kind = ConfigNode::Kind::kSequence;
    else if (y.IsScalar())
      kind = ConfigNode::Kind::kScalar;
    ConfigNode n = ConfigNode::make(kind, file_, line_of(m), column_of(m), path);
    if (y.IsScalar()) n.set_scalar(y.Scalar());
    if (y.IsMap()) {
      std::unordered_set<std::string> seen;
      for (const auto& kv : y) {
        if (!kv.first.IsScalar())
          return at(kv.first.Mark(), path, "a map key must be a plain string");
        const std::string& key = kv.first.Scalar();
        std::string child = path.empty() ? key : path + "." + key;
        if (!seen.insert(key).second)
          return at(kv.first.Mark(), child, "duplicate key '" + key + "'; keep only one");
        PS_ASSIGN_OR_RETURN(ConfigNode c, convert(kv.second, child, depth + 1));
        n.add_entry(key, std::move(c));
      }
    } else if (y.IsSequence()) {
      size_t i = 0;
      for (const auto& item : y) {
        PS_ASSIGN_OR_RETURN(ConfigNode c,
                            convert(item, path + "[" + std::to_string(i++) + "]", depth + 1));
        n.add_item(std::move(c));
      }
    }
    return n;
  }

 private:
  // yaml-cpp marks are 0-based, and -1 for an empty document: errors say 1:1 then.
  static int line_of(const YAML::Mark& m) { return m.line < 0 ? 1 : m.line + 1; }
  static int column_of(const YAML::Mark& m) { return m.column < 0 ? 1 : m.column + 1; }
  Status at(const YAML::Mark& m, const std::string& path, const std::string& message) const {
    return ConfigNode::make(ConfigNode::Kind::kNull, file_, line_of(m), column_of(m), path)
        .error(message);
  }

  std::shared_ptr<const std::string> file_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

Result<ConfigNode> parse_yaml(const std::string& text, const std::string& name) {
  auto file = std::make_shared<const std::string>(name);
  try {
    YAML::Node root = YAML::Load(text);
    return Converter(file).convert(root, "", 0);
  } catch (const YAML::Exception& e) {
    return Status::invalid(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

// The scalar that holds position line:column (the last one starting at or before it).
const ConfigNode* scalar_at(const ConfigNode& n, int line, int column) {
  const ConfigNode* best = nullptr;
  if (n.is_scalar() && n.line() == line && n.column() <= column) best = &n;
  auto consider = [&](const ConfigNode& c) {
    const ConfigNode* f = scalar_at(c, line, column);
    if (f && (!best || f->column() >= best->column())) best = f;
  };
  for (const auto& kv : n.entries()) consider(kv.second);
  for (const auto& item : n.items()) consider(item);
  return best;
}

// "name:line:col: key 'path': message", the key found by parsing the unexpanded text with
// each ${...} blanked to letters of the same length (its braces would read as a flow map).
Status env_error(std::string_view text, const std::string& name, const EnvError& e) {
  std::string blanked(text);
  for (size_t i = 0; i + 1 < blanked.size(); ++i) {
    if (blanked[i] != '$' || blanked[i + 1] != '{') continue;
    size_t close = blanked.find_first_of("}\n", i);
    if (close == std::string::npos || blanked[close] != '}') continue;
    std::fill(blanked.begin() + static_cast<std::ptrdiff_t>(i),
              blanked.begin() + static_cast<std::ptrdiff_t>(close) + 1, 'x');
  }
  auto raw = parse_yaml(blanked, name);
  const ConfigNode* at = raw ? scalar_at(*raw, e.line, e.column) : nullptr;
  std::string where = name + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": ";
  if (at && !at->path().empty()) where += "key '" + at->path() + "': ";
  return Status::invalid(where + e.message);
}

}  // namespace

Result<std::string> expand_env(std::string_view text) {
  std::string out;
  if (auto e = expand_into(text, out))
    return Status::invalid(std::to_string(e->line) + ":" + std::to_string(e->column) + ": " +
                           e->message);
  return out;
}

Result<ConfigNode> parse_config_text(std::string_view text, const std::string& name) {
  if (text.size() > kMaxConfigBytes)
    return Status::invalid(name + ":1:1: the configuration is over " +
                           std::to_string(kMaxConfigBytes >> 20) + " MiB; is this the right file?");
  std::string expanded;
  if (auto e = expand_into(text, expanded)) return env_error(text, name, *e);
  return parse_yaml(expanded, name);
}

Result<ConfigNode> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid(path + ": cannot open configuration file");
  // One byte past the limit is enough to refuse; a huge file is never read whole.
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  PS_ASSIGN_OR_RETURN(ConfigNode root, parse_config_text(text, path));
  if (root.is_null())
    return Status::invalid(path +
                           ":1:1: empty configuration; expected a YAML map of sections "
                           "(see examples/pinterest/pipeline.yaml)");
  return root;
}

}  // namespace pinstream::core
