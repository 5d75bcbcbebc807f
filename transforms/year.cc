// year: {column, into} — a new long column with the calendar year (UTC) of a timestamp
// column; null when the timestamp is null (post_year, join_year in the default pipeline).
#include "stream/core/time.h"
#include "transforms/steps.h"

namespace pinstream::transforms {
namespace {

struct YearConfig {
  std::string column;  // required: a timestamp column
  std::string into;    // required: a new column

  static core::Result<YearConfig> parse(const core::ConfigNode& args) {
    PS_RETURN_IF_ERROR(expect_map(args, "{column, into}"));
    YearConfig cfg;
    PS_ASSIGN_OR_RETURN(cfg.column, args.get_string("column"));
    PS_ASSIGN_OR_RETURN(cfg.into, args.get_string("into"));
    PS_RETURN_IF_ERROR(args.reject_unknown_keys());
    return cfg;
  }
};

class Year final : public Transform {
 public:
  Year(size_t column, size_t into) : column_(column), into_(into) {}
  core::Status apply(core::Row& row) const override {
    const core::Value& v = row[column_];
    if (v.type == core::Type::kTimestamp) {
      row[into_].set_long(core::year_of(v.i));
    } else {
      row[into_].set_null();
    }
    return core::Status::ok();
  }

 private:
  size_t column_;
  size_t into_;
};

}  // namespace

BuildResult build_year(const core::ConfigNode& args, Layout& layout) {
  PS_ASSIGN_OR_RETURN(YearConfig cfg, YearConfig::parse(args));
  PS_ASSIGN_OR_RETURN(size_t col,
                      resolve_column(args, "column", cfg.column, layout, {core::Type::kTimestamp}));
  PS_RETURN_IF_ERROR(check_new_column(args, "into", cfg.into, layout));
  size_t column = layout.slot(col);
  size_t into = layout.add({cfg.into, core::Type::kLong, true});
  return std::unique_ptr<Transform>(new Year(column, into));
}

}  // namespace pinstream::transforms
