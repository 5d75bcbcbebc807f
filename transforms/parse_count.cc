// parse_count: {column} — turns a count written as digits with an optional `k` (x1,000) or
// `M` (x1,000,000) suffix into a long: "718" -> 718, "22k" -> 22000, "3M" -> 3000000.
// Anything else becomes null (never strip letters: "985k" is 985000, not 985). The column's
// type becomes long.
#include <limits>

#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct ParseCountConfig {
  std::string column;  // required: a string column

  static core::Result<ParseCountConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{column}"));
    ParseCountConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.column, args.get_string("column"));
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class ParseCount final : public Transform {
 public:
  explicit ParseCount(size_t slot) : slot_(slot) {}
  core::Status apply(core::Row& row) const override {
    core::Value& v = row[slot_];
    if (v.type != core::Type::kString) return core::Status::ok();  // null stays null
    if (auto n = parse_count(v.s)) {
      v.set_long(*n);
    } else {
      v.set_null();
    }
    return core::Status::ok();
  }

 private:
  size_t slot_;
};

}  // namespace

std::optional<int64_t> parse_count(std::string_view s) {
  int64_t mult = 1;
  if (!s.empty() && s.back() == 'k') mult = 1000;
  if (!s.empty() && s.back() == 'M') mult = 1000000;
  if (mult != 1) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  const int64_t limit = std::numeric_limits<int64_t>::max() / mult;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int64_t digit = c - '0';
    if (n > (limit - digit) / 10) return std::nullopt;  // n * 10 + digit would exceed limit
    n = n * 10 + digit;
  }
  return n * mult;
}

BuildResult build_parse_count(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(ParseCountConfig cfg, ParseCountConfig::parse(args));
  PS_ASSIGN_OR_RETURN(size_t col,
                      resolve_column(args, "column", cfg.column, layout, {core::Type::kString}));
  layout.set_type(col, core::Type::kLong);
  return std::unique_ptr<Transform>(new ParseCount(layout.slot(col)));
}

}  // namespace pinstream::transforms
