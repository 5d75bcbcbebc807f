// bucket: {column, into, ranges: [{label, min, max}, ...]} — a new string column holding
// the label of the first range containing the value (inclusive; min and max each
// optional, meaning unbounded). No match, or a null value, gives null. The column is long
// or double (age_group from age in the default pipeline).
#include <limits>

#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct Range {
  std::string label;
  int64_t min = std::numeric_limits<int64_t>::min();  // Default: unbounded
  int64_t max = std::numeric_limits<int64_t>::max();  // Default: unbounded
};

struct BucketConfig {
  std::string column;         // required: a long or double column
  std::string into;           // required: a new column
  std::vector<Range> ranges;  // required: at least one

  static core::Result<BucketConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{column, into, ranges: [{label, min, max}]}"));
    BucketConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.column, args.get_string("column"));
    PS_ASSIGN_OR_RETURN(cfg.into, args.get_string("into"));
    PS_ASSIGN_OR_RETURN(const core::ConfigNode* list, args.get("ranges"));
    if (!list->is_sequence() || list->items().empty())
      return list->error("expected a list of {label, min, max}");
    for (const auto& item : list->items()) {
      PS_RETURN_IF_ERROR(expect_map(item, "{label, min, max}"));
      Range r;
      PS_ASSIGN_OR_RETURN(r.label, item.get_string("label"));
      PS_ASSIGN_OR_RETURN(r.min, item.get_int("min", r.min));
      PS_ASSIGN_OR_RETURN(r.max, item.get_int("max", r.max));
      if (r.min > r.max) return item.error("min is greater than max");
      PS_RETURN_IF_ERROR(item.reject_unknown_keys());
      cfg.ranges.push_back(std::move(r));
    }
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class Bucket final : public Transform {
 public:
  Bucket(size_t column, size_t into, std::vector<Range> ranges)
      : column_(column), into_(into), ranges_(std::move(ranges)) {}
  core::Status apply(core::Row& row) const override {
    const core::Value& v = row[column_];
    core::Value& out = row[into_];
    out.set_null();
    for (const auto& r : ranges_) {
      if (contains(r, v)) {
        out.set_string(r.label);
        break;
      }
    }
    return core::Status::ok();
  }

 private:
  static bool contains(const Range& r, const core::Value& v) {
    if (v.type == core::Type::kLong) return v.i >= r.min && v.i <= r.max;
    if (v.type == core::Type::kDouble)
      return v.d >= static_cast<double>(r.min) && v.d <= static_cast<double>(r.max);
    return false;
  }
  size_t column_;
  size_t into_;
  std::vector<Range> ranges_;
};

}  // namespace

BuildResult build_bucket(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(BucketConfig cfg, BucketConfig::parse(args));
  PS_ASSIGN_OR_RETURN(size_t col, resolve_column(args, "column", cfg.column, layout,
                                                 {core::Type::kLong, core::Type::kDouble}));
  PS_RETURN_IF_ERROR(check_new_column(args, "into", cfg.into, layout));
  size_t column = layout.slot(col);
  size_t into = layout.add({cfg.into, core::Type::kString, true});
  return std::unique_ptr<Transform>(new Bucket(column, into, std::move(cfg.ranges)));
}

}  // namespace pinstream::transforms
