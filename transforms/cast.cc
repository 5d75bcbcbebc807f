// cast: {column: type, ...} — converts columns with the core cast rules (core::coerce):
// "20" -> long 20, "2020-08-28 03:52:47" or "2020-08-28T03:52:47" -> timestamp, ...
// Types: long, double, string, bool, timestamp. A value that does not convert sends the
// record to the dead letters: `field 'date_joined': "yesterday" is not a timestamp (...)`.
#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct CastConfig {
  struct Target {
    std::string column;
    core::Type type;
    const core::ConfigNode* node;  // for errors
  };
  std::vector<Target> targets;  // required: at least one

  static core::Result<CastConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{column: type, ...}"));
    if (args.entries().empty()) return args.error("expected at least one {column: type}");
    CastConfig cfg;
    for (const auto& [column, type_node] : args.entries()) {
      const core::ConfigNode* node = args.find(column);  // marks the key used
      PS_ASSIGN_OR_RETURN(std::string name, type_node.as_string());
      core::Type t = core::type_from_name(name);
      if (t == core::Type::kNull || t == core::Type::kAny || t == core::Type::kDoubleArray)
        return type_node.error("cannot cast to '" + name +
                               "' (long, double, string, bool, timestamp)");
      cfg.targets.push_back({column, t, node});
    }
    return cfg;
  }
};

class Cast final : public Transform {
 public:
  struct Target {
    size_t slot;
    core::Type type;
    std::string name;
  };
  explicit Cast(std::vector<Target> targets) : targets_(std::move(targets)) {}
  core::Status apply(core::Row& row) const override {
    for (const auto& t : targets_) {
      core::Status st = core::coerce(row[t.slot], t.type);
      if (!st.is_ok()) return field_error(t.name, st);
    }
    return core::Status::ok();
  }

 private:
  std::vector<Target> targets_;
};

}  // namespace

BuildResult build_cast(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(CastConfig cfg, CastConfig::parse(args));
  std::vector<Cast::Target> targets;
  for (const auto& t : cfg.targets) {
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(*t.node, t.column));
    layout.set_type(col, t.type);
    targets.push_back({layout.slot(col), t.type, t.column});
  }
  return std::unique_ptr<Transform>(new Cast(std::move(targets)));
}

}  // namespace pinstream::transforms
