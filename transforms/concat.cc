// concat: {columns: [..], separator: "", into} — a new string column joining the parts
// with `separator`; null when any part is null (as Spark's concat). Parts must be strings.
#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct ConcatConfig {
  std::vector<std::string> columns;  // required: at least one string column
  std::string separator;             // Default: ""
  std::string into;                  // required: a new column

  static core::Result<ConcatConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{columns: [..], separator, into}"));
    ConcatConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.columns, names_arg(args, "columns"));
    PS_ASSIGN_OR_RETURN(cfg.separator, args.get_string("separator", ""));
    PS_ASSIGN_OR_RETURN(cfg.into, args.get_string("into"));
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class Concat final : public Transform {
 public:
  Concat(std::vector<size_t> parts, std::string separator, size_t into)
      : parts_(std::move(parts)), separator_(std::move(separator)), into_(into) {}
  core::Status apply(core::Row& row) const override {
    core::Value& out = row[into_];
    for (size_t slot : parts_) {
      if (row[slot].type != core::Type::kString) {
        out.set_null();
        return core::Status::ok();
      }
    }
    out.type = core::Type::kString;
    out.s.clear();  // keeps its capacity: no allocation once warmed up
    for (size_t k = 0; k < parts_.size(); ++k) {
      if (k > 0) out.s += separator_;
      out.s += row[parts_[k]].s;
    }
    return core::Status::ok();
  }

 private:
  std::vector<size_t> parts_;
  std::string separator_;
  size_t into_;
};

}  // namespace

BuildResult build_concat(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(ConcatConfig cfg, ConcatConfig::parse(args));
  std::vector<size_t> parts;
  for (const auto& name : cfg.columns) {
    PS_ASSIGN_OR_RETURN(size_t col,
                        resolve_column(args, "columns", name, layout, {core::Type::kString}));
    parts.push_back(layout.slot(col));
  }
  PS_RETURN_IF_ERROR(check_new_column(args, "into", cfg.into, layout));
  size_t into = layout.add({cfg.into, core::Type::kString, true});
  return std::unique_ptr<Transform>(new Concat(std::move(parts), cfg.separator, into));
}

}  // namespace pinstream::transforms
