// null_if: {empty_strings: bool, values: {column: [placeholder, ...]}} — turns values that
// carry no data into null: with empty_strings every string column's "" (the columns
// visible at this step), and per column the listed placeholder strings (exact match).
#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct NullIfConfig {
  bool empty_strings = false;  // Default: false
  struct Column {
    std::string name;
    std::vector<std::string> values;
    const core::ConfigNode* node;  // for errors
  };
  std::vector<Column> values;  // Default: none

  static core::Result<NullIfConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{empty_strings: bool, values: {column: [..]}}"));
    NullIfConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.empty_strings, args.get_bool("empty_strings", false));
    if (const core::ConfigNode* values = args.find("values")) {
      PS_RETURN_IF_ERROR(expect_map(*values, "{column: [placeholder, ...]}"));
      for (const auto& [name, list] : values->entries()) {
        const core::ConfigNode* node = values->find(name);  // marks the key used
        PS_ASSIGN_OR_RETURN(std::vector<std::string> vs, list.as_string_list());
        cfg.values.push_back({name, std::move(vs), node});
      }
    }
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class NullIf final : public Transform {
 public:
  struct Column {
    size_t slot;
    std::vector<std::string> values;
  };
  NullIf(std::vector<size_t> empty, std::vector<Column> values)
      : empty_(std::move(empty)), values_(std::move(values)) {}
  core::Status apply(core::Row& row) const override {
    for (size_t slot : empty_) {
      core::Value& v = row[slot];
      if (v.type == core::Type::kString && v.s.empty()) v.set_null();
    }
    for (const auto& c : values_) {
      core::Value& v = row[c.slot];
      if (v.type != core::Type::kString) continue;
      for (const auto& x : c.values) {
        if (v.s == x) {
          v.set_null();
          break;
        }
      }
    }
    return core::Status::ok();
  }

 private:
  std::vector<size_t> empty_;
  std::vector<Column> values_;
};

}  // namespace

BuildResult build_null_if(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(NullIfConfig cfg, NullIfConfig::parse(args));
  std::vector<size_t> empty;
  if (cfg.empty_strings) {
    for (size_t c = 0; c < layout.size(); ++c) {
      core::Type t = layout.field(c).type;
      if (t == core::Type::kString || t == core::Type::kAny) empty.push_back(layout.slot(c));
    }
  }
  std::vector<NullIf::Column> columns;
  for (auto& c : cfg.values) {
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(*c.node, c.name));
    core::Type t = layout.field(col).type;
    if (t != core::Type::kString && t != core::Type::kAny)
      return c.node->error("column '" + c.name + "' is " + core::type_name(t) +
                           ", expected string");
    columns.push_back({layout.slot(col), std::move(c.values)});
  }
  return std::unique_ptr<Transform>(new NullIf(std::move(empty), std::move(columns)));
}

}  // namespace pinstream::transforms
