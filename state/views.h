// Views: named queries over aggregates (SPEC section 4), answered from a Reader over
// committed state. A view picks an aggregate (`from`), optionally keeps rows whose columns
// fall in inclusive ranges (`where: {col: {min, max}}`), optionally keeps the top `n` rows
// per group (`top: {per: [cols], order_by: col, n}`: largest first, ties by the other
// group columns ascending), and projects `columns: {out_name: source_col}` in order. Rows
// with a null in a projected column (or in order_by) are left out. Rows come out ordered
// by the output columns ascending.
// Params: `<col>_min` / `<col>_max` override a range; `<col>` filters on equality; `n`
// overrides top's n. Anything else is InvalidArgument.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "state/aggregates.h"

namespace pinstream::state {

struct ViewResult {
  std::vector<std::string> columns;
  std::vector<core::Row> rows;
};

class Views {
 public:
  static core::Result<std::unique_ptr<Views>> build(const core::ConfigNode& config,
                                                    const Aggregates& aggregates);
  std::vector<std::string> names() const;
  // NotFound for an unknown view, InvalidArgument for bad params. `tasks`: whose partials
  // (task_aggregates.h) the rows merge; {0} (one task) reads the unprefixed keys alone.
  core::Result<ViewResult> query(const std::string& view,
                                 const std::map<std::string, std::string>& params,
                                 const StateStore::Reader& reader,
                                 const std::vector<int32_t>& tasks = {0}) const;
  // The aggregate view `view` reads: NotFound for an unknown view, InvalidArgument for bad
  // params (checked as query() checks them).
  core::Result<const AggregateSpec*> source_of(
      const std::string& view, const std::map<std::string, std::string>& params) const;
  // The answer query() gives, over partials already merged (by key suffix; task_aggregates.h)
  // instead of the state: the shares of tasks read by several processes (SPEC section 9).
  core::Result<ViewResult> query_merged(const std::string& view,
                                        const std::map<std::string, std::string>& params,
                                        const std::map<std::string, GroupPartial>& merged) const;

 private:
  struct Range {
    size_t column;
    std::optional<int64_t> min, max;
  };
  struct View {
    std::string name;
    const AggregateSpec* from = nullptr;
    std::vector<Range> where;
    bool top = false;
    std::vector<size_t> per;
    size_t order_by = 0;
    int64_t n = 1;
    std::vector<std::string> out_names;
    std::vector<size_t> out_cols;
  };
  // A query's filters: the view's ranges with the params' on top, equalities, top's n.
  struct Filter {
    std::vector<Range> where;
    std::vector<std::pair<size_t, std::string>> equals;  // column, value as it prints
    int64_t n = 1;
  };
  Views() = default;
  const View* find(const std::string& name) const;
  // InvalidArgument for an unknown param or a value its column cannot hold.
  core::Status apply_param(const View& v, const std::string& key, const std::string& value,
                           Filter& filter) const;
  static bool kept(const View& v, const Filter& filter, const core::Row& row);
  static std::vector<core::Row> top_n(const View& v, int64_t n, std::vector<core::Row> rows);
  // The view's filter for `params`; NotFound / InvalidArgument as query().
  core::Result<Filter> filter_of(const std::string& name,
                                 const std::map<std::string, std::string>& params,
                                 const View*& view) const;
  // The aggregate's rows filtered, cut to top n, projected and ordered.
  static ViewResult finish(const View& v, const Filter& f, std::vector<core::Row> rows);
  const Aggregates* aggregates_ = nullptr;
  std::vector<View> views_;
};

}  // namespace pinstream::state
