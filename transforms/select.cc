// select: [cols] — keeps exactly these columns, in this order (it also reorders). Only the
// layout changes. Errors: an unknown column, a column listed twice.
#include <set>

#include "transforms/steps.h"

namespace pinstream::transforms {

BuildResult build_select(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(std::vector<std::string> names, args.as_string_list());
  if (names.empty()) return args.error("expected at least one column");
  std::vector<size_t> keep;
  std::set<std::string> seen;
  for (const auto& name : names) {
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(args, name));
    if (!seen.insert(name).second) return args.error("column '" + name + "' listed twice");
    keep.push_back(col);
  }
  layout.project(keep);
  return std::unique_ptr<Transform>();
}

}  // namespace pinstream::transforms
