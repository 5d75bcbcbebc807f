// rename: {old: new, ...} — gives columns new names. Only the layout changes: no runtime
// work per record. Errors: an unknown old name, or a new name that already exists.
#include "transforms/steps.h"

namespace pinstream::transforms {

BuildResult build_rename(const core::ConfigNode& args, Layout& layout) {
  PS_RETURN_IF_ERROR(expect_map(args, "{old_name: new_name, ...}"));
  if (args.entries().empty()) return args.error("expected at least one {old_name: new_name}");
  for (const auto& [from, to_node] : args.entries()) {
    const core::ConfigNode& key_node = *args.find(from);  // marks the key used
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(key_node, from));
    PS_ASSIGN_OR_RETURN(std::string to, to_node.as_string());
    if (to != from) PS_RETURN_IF_ERROR(layout.require_new(to_node, to));
    layout.rename(col, to);
  }
  return std::unique_ptr<Transform>();
}

}  // namespace pinstream::transforms
