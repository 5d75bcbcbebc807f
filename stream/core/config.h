// The configuration tree every component reads its settings from. It is parsed from YAML
// (yaml-cpp stays inside config_parse.cc), after `${VAR}` / `${VAR:-default}` expansion,
// and keeps file:line:column for every node so errors point at the offending key. Each
// accessor marks the key as used; reject_unknown_keys() then names any key nobody read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/core/status.h"

namespace pinstream::core {

class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind() const { return kind_; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_null() const { return kind_ == Kind::kNull; }
  const std::string& file() const { return *file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  // Dotted key path from the root, e.g. "streams.pin.steps[2].null_if".
  const std::string& path() const { return path_; }
  const std::string& scalar() const { return scalar_; }

  // Map access. find() returns nullptr when absent and marks the key used.
  const ConfigNode* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Entries of a map, in file order (marks nothing: callers that iterate own every key).
  const std::vector<std::pair<std::string, ConfigNode>>& entries() const { return map_; }
  const std::vector<ConfigNode>& items() const { return seq_; }

  // Typed reads of this node; errors name file:line:column and the key.
  Result<std::string> as_string() const;
  Result<int64_t> as_int() const;
  Result<double> as_double() const;
  Result<bool> as_bool() const;
  Result<std::vector<std::string>> as_string_list() const;  // a scalar or a sequence of scalars

  // Typed reads of a child; the default is returned when the key is absent.
  Result<std::string> get_string(std::string_view key) const;  // required
  Result<std::string> get_string(std::string_view key, std::string def) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key, int64_t def) const;
  Result<double> get_double(std::string_view key, double def) const;
  Result<bool> get_bool(std::string_view key, bool def) const;
  Result<const ConfigNode*> get(std::string_view key) const;  // required child

  // InvalidArgument naming the first key of this map that was never read.
  Status reject_unknown_keys() const;
  // An InvalidArgument "file:line:col: key 'path': message".
  Status error(std::string_view message) const;

  // Builds trees; used by the parser and by tests.
  static ConfigNode make(Kind kind, std::shared_ptr<const std::string> file, int line, int col,
                         std::string path);
  void set_scalar(std::string v) { scalar_ = std::move(v); }
  void add_entry(std::string key, ConfigNode node) {
    map_.emplace_back(std::move(key), std::move(node));
  }
  void add_item(ConfigNode node) { seq_.push_back(std::move(node)); }

 private:
  Kind kind_ = Kind::kNull;
  std::shared_ptr<const std::string> file_;
  int line_ = 0;
  int column_ = 0;
  std::string path_;
  std::string scalar_;
  std::vector<std::pair<std::string, ConfigNode>> map_;
  std::vector<ConfigNode> seq_;
  mutable std::vector<bool> used_;
};

// Bounds on a configuration, which is untrusted input. A pipeline's YAML is a few KB.
inline constexpr size_t kMaxConfigBytes = size_t{1} << 20;           // the file as read
inline constexpr size_t kMaxConfigNodes = 100'000;                   // after alias expansion
inline constexpr size_t kMaxConfigExpandedBytes = size_t{32} << 20;  // scalars + key paths
inline constexpr int kMaxConfigDepth = 64;                           // nesting levels

// Replaces ${VAR} and ${VAR:-default} with the environment's values ($$ is a literal $).
// Fails (InvalidArgument "line:column: ...") on an unterminated reference or an unset
// variable without a default.
Result<std::string> expand_env(std::string_view text);

// Reads, expands and parses a YAML file. Errors (InvalidArgument) name file:line:column and
// the key: YAML syntax, an unset variable, a duplicate key, a non-string key, a file over
// kMaxConfigBytes, nesting deeper than kMaxConfigDepth, aliases expanding past
// kMaxConfigNodes / kMaxConfigExpandedBytes; load_config_file also refuses an empty file.
Result<ConfigNode> load_config_file(const std::string& path);
Result<ConfigNode> parse_config_text(std::string_view text, const std::string& name);

}  // namespace pinstream::core
