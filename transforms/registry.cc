// The built-in step kinds, one line each, and the builder of a `steps:` list.
#include "transforms/steps.h"

namespace pinstream::transforms {

void register_builtin(Registry& r) {
  r.add("rename", build_rename);
  r.add("drop", build_drop);
  r.add("select", build_select);
  r.add("cast", build_cast);
  r.add("null_if", build_null_if);
  r.add("parse_count", build_parse_count);
  r.add("strip_prefix", build_strip_prefix);
  r.add("concat", build_concat);
  r.add("make_array", build_make_array);
  r.add("bucket", build_bucket);
  r.add("year", build_year);
}

StepBuilder Registry::find(const std::string& kind) const {
  auto it = builders_.find(kind);
  return it == builders_.end() ? nullptr : it->second;
}

std::string Registry::kinds() const {
  std::string out;
  for (const auto& entry : builders_) out += (out.empty() ? "" : ", ") + entry.first;
  return out;
}

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry r;
    register_builtin(r);
    return r;
  }();
  return registry;
}

core::Result<std::vector<std::unique_ptr<Transform>>> build_steps(const core::ConfigNode* steps,
                                                                  Layout& layout) {
  std::vector<std::unique_ptr<Transform>> out;
  if (steps == nullptr || steps->is_null()) return out;
  if (!steps->is_sequence()) return steps->error("expected a list of steps");
  for (const auto& item : steps->items()) {
    if (!item.is_map() || item.entries().size() != 1)
      return item.error("a step is a map with one key, its kind (e.g. `- rename: {index: ind}`)");
    const std::string& kind = item.entries().front().first;
    const core::ConfigNode& args = *item.find(kind);  // marks the key used
    StepBuilder build = builtin_registry().find(kind);
    if (build == nullptr)
      return item.error("unknown step '" + kind + "' (known: " + builtin_registry().kinds() + ")");
    PS_ASSIGN_OR_RETURN(std::unique_ptr<Transform> step, build(args, layout));
    if (step) out.push_back(std::move(step));
  }
  return out;
}

}  // namespace pinstream::transforms
