// drop: [cols] — removes these columns, keeping the others in order. Only the layout
// changes. Errors: an unknown column; dropping every column.
#include <set>

#include "transforms/steps.h"

namespace pinstream::transforms {

BuildResult build_drop(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(std::vector<std::string> names, args.as_string_list());
  std::set<size_t> drop;
  for (const auto& name : names) {
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(args, name));
    drop.insert(col);
  }
  std::vector<size_t> keep;
  for (size_t c = 0; c < layout.size(); ++c)
    if (!drop.count(c)) keep.push_back(c);
  if (keep.empty()) return args.error("drop would remove every column");
  layout.project(keep);
  return std::unique_ptr<Transform>();
}

}  // namespace pinstream::transforms
