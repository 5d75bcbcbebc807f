// strip_prefix: {column, prefix} — removes `prefix` from the start of a string column
// ("Local save in /data/art" -> "/data/art"). Values without the prefix, and nulls, are
// kept as they are. The simplest step with runtime work: copy this file to add a step.
#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct StripPrefixConfig {
  std::string column;  // required: a string column
  std::string prefix;  // required

  // Reads the YAML map; unknown keys are errors.
  static core::Result<StripPrefixConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{column, prefix}"));
    StripPrefixConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.column, args.get_string("column"));
    PS_ASSIGN_OR_RETURN(cfg.prefix, args.get_string("prefix"));
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class StripPrefix final : public Transform {
 public:
  StripPrefix(size_t slot, std::string prefix) : slot_(slot), prefix_(std::move(prefix)) {}
  core::Status apply(core::Row& row) const override {
    core::Value& v = row[slot_];
    if (v.type == core::Type::kString && v.s.starts_with(prefix_)) v.s.erase(0, prefix_.size());
    return core::Status::ok();
  }

 private:
  size_t slot_;
  std::string prefix_;
};

}  // namespace

BuildResult build_strip_prefix(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(StripPrefixConfig cfg, StripPrefixConfig::parse(args));
  PS_ASSIGN_OR_RETURN(size_t col,
                      resolve_column(args, "column", cfg.column, layout, {core::Type::kString}));
  return std::unique_ptr<Transform>(new StripPrefix(layout.slot(col), cfg.prefix));
}

}  // namespace pinstream::transforms
