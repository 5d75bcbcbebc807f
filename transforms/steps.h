// The built-in step kinds (one .cc file each, registered in registry.cc) and the argument
// helpers they share. Each builder validates its YAML map (unknown keys are errors),
// resolves column names against the Layout and returns the runtime Transform.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transforms/transform.h"

namespace pinstream::transforms {

using BuildResult = core::Result<std::unique_ptr<Transform>>;

BuildResult build_rename(const core::ConfigNode& args, Layout& layout);        // rename.cc
BuildResult build_drop(const core::ConfigNode& args, Layout& layout);          // drop.cc
BuildResult build_select(const core::ConfigNode& args, Layout& layout);        // select.cc
BuildResult build_cast(const core::ConfigNode& args, Layout& layout);          // cast.cc
BuildResult build_null_if(const core::ConfigNode& args, Layout& layout);       // null_if.cc
BuildResult build_parse_count(const core::ConfigNode& args, Layout& layout);   // parse_count.cc
BuildResult build_strip_prefix(const core::ConfigNode& args, Layout& layout);  // strip_prefix.cc
BuildResult build_concat(const core::ConfigNode& args, Layout& layout);        // concat.cc
BuildResult build_make_array(const core::ConfigNode& args, Layout& layout);    // make_array.cc
BuildResult build_bucket(const core::ConfigNode& args, Layout& layout);        // bucket.cc
BuildResult build_year(const core::ConfigNode& args, Layout& layout);          // year.cc

// parse_count's rule: ASCII digits with an optional `k` (x1,000) or `M` (x1,000,000)
// suffix. Anything else (signs, spaces, fractions, other letters, overflow) is nullopt.
std::optional<int64_t> parse_count(std::string_view text);

// --- argument helpers (layout.cc); errors point at the offending key ---

// InvalidArgument at `args` unless it is a map; `usage` shows the expected shape.
core::Status expect_map(const core::ConfigNode& args, std::string_view usage);
// Required list `key` of at least one name (a scalar counts as a list of one).
core::Result<std::vector<std::string>> names_arg(const core::ConfigNode& args,
                                                 std::string_view key);
// Resolves column `name`, read from `args[key]`, to its visible index; when `types` is not
// empty the column must have one of them. Errors point at args[key].
core::Result<size_t> resolve_column(const core::ConfigNode& args, std::string_view key,
                                    const std::string& name, const Layout& layout,
                                    std::vector<core::Type> types = {});
core::Result<std::vector<size_t>> resolve_columns(const core::ConfigNode& args,
                                                  std::string_view key,
                                                  const std::vector<std::string>& names,
                                                  const Layout& layout);
// InvalidArgument at args[key] when `name` (a new column) is empty or already exists.
core::Status check_new_column(const core::ConfigNode& args, std::string_view key,
                              const std::string& name, const Layout& layout);
// The per-record error of a field: "field 'name': <reason>".
core::Status field_error(const std::string& name, const core::Status& reason);

}  // namespace pinstream::transforms
