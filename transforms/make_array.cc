// make_array: {columns: [..], into} — a new array<double> column from numeric (long or
// double) columns, e.g. coordinates = [latitude, longitude]. Null when every part is null;
// a null part among non-null ones becomes NaN (array<double> has no null elements).
#include <limits>

#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct MakeArrayConfig {
  std::vector<std::string> columns;  // required: at least one long or double column
  std::string into;                  // required: a new column

  static core::Result<MakeArrayConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{columns: [..], into}"));
    MakeArrayConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.columns, names_arg(args, "columns"));
    PS_ASSIGN_OR_RETURN(cfg.into, args.get_string("into"));
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class MakeArray final : public Transform {
 public:
  MakeArray(std::vector<size_t> parts, size_t into) : parts_(std::move(parts)), into_(into) {}
  core::Status apply(core::Row& row) const override {
    core::Value& out = row[into_];
    bool any = false;
    for (size_t slot : parts_) any = any || !row[slot].is_null();
    if (!any) {
      out.set_null();
      return core::Status::ok();
    }
    out.type = core::Type::kDoubleArray;
    out.arr.clear();  // keeps its capacity
    for (size_t slot : parts_) {
      const core::Value& v = row[slot];
      out.arr.push_back(v.type == core::Type::kDouble ? v.d
                        : v.type == core::Type::kLong ? static_cast<double>(v.i)
                                                      : std::numeric_limits<double>::quiet_NaN());
    }
    return core::Status::ok();
  }

 private:
  std::vector<size_t> parts_;
  size_t into_;
};

}  // namespace

BuildResult build_make_array(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(MakeArrayConfig cfg, MakeArrayConfig::parse(args));
  std::vector<size_t> parts;
  for (const auto& name : cfg.columns) {
    PS_ASSIGN_OR_RETURN(size_t col, resolve_column(args, "columns", name, layout,
                                                   {core::Type::kDouble, core::Type::kLong}));
    parts.push_back(layout.slot(col));
  }
  PS_RETURN_IF_ERROR(check_new_column(args, "into", cfg.into, layout));
  size_t into = layout.add({cfg.into, core::Type::kDoubleArray, true});
  return std::unique_ptr<Transform>(new MakeArray(std::move(parts), into));
}

}  // namespace pinstream::transforms
