#include "state/views.h"

#include <algorithm>

#include "state/task_aggregates.h"
#include "stream/core/time.h"

namespace pinstream::state {
using core::ConfigNode;
using core::Status;
using core::Value;

namespace {

core::Result<size_t> col(const ConfigNode& where, const core::Schema& s, const std::string& name) {
  int i = s.index_of(name);
  if (i < 0) return where.error("unknown column '" + name + "' (columns: " + s.to_string() + ")");
  return static_cast<size_t>(i);
}

std::optional<int64_t> number_of(const Value& v) {
  if (v.type == core::Type::kLong || v.type == core::Type::kTimestamp) return v.i;
  if (v.type == core::Type::kDouble) return static_cast<int64_t>(v.d);
  return std::nullopt;
}

// An equality param must be a value of its column's type: a typo would otherwise match no
// row and look like an empty answer. A timestamp is compared in the form answers print.
core::Result<std::string> equality_value(core::Type type, const std::string& k,
                                         const std::string& val) {
  if (type == core::Type::kTimestamp) {
    if (auto t = core::parse_timestamp(val)) return core::format_timestamp(*t);
    return Status::invalid("param '" + k + "' must be a timestamp (YYYY-MM-DDTHH:MM:SS), got '" +
                           val + "'");
  }
  if (type == core::Type::kLong || type == core::Type::kDouble) {
    try {
      size_t pos = 0;
      (void)std::stod(val, &pos);
      if (pos == val.size()) return val;
    } catch (const std::exception&) {
    }
    return Status::invalid("param '" + k + "' must be a number, got '" + val + "'");
  }
  return val;
}

}  // namespace

core::Result<std::unique_ptr<Views>> Views::build(const ConfigNode& config,
                                                  const Aggregates& aggregates) {
  std::unique_ptr<Views> self(new Views());
  self->aggregates_ = &aggregates;
  if (!config.is_map()) return config.error("expected a map of views");
  for (const auto& [name, node] : config.entries()) {
    (void)config.find(name);
    View v;
    v.name = name;
    PS_ASSIGN_OR_RETURN(std::string from, node.get_string("from"));
    v.from = aggregates.find(from);
    if (!v.from) return node.find("from")->error("unknown aggregate '" + from + "'");
    const core::Schema& s = v.from->output;
    if (const ConfigNode* w = node.find("where")) {
      if (!w->is_map()) return w->error("expected {column: {min, max}}");
      for (const auto& [c, r] : w->entries()) {
        (void)w->find(c);
        Range range;
        PS_ASSIGN_OR_RETURN(range.column, col(*w, s, c));
        if (r.find("min")) {
          PS_ASSIGN_OR_RETURN(range.min, r.get_int("min"));
        }
        if (r.find("max")) {
          PS_ASSIGN_OR_RETURN(range.max, r.get_int("max"));
        }
        PS_RETURN_IF_ERROR(r.reject_unknown_keys());
        v.where.push_back(range);
      }
    }
    if (const ConfigNode* t = node.find("top")) {
      v.top = true;
      PS_ASSIGN_OR_RETURN(const ConfigNode* per, t->get("per"));
      if (!per->is_sequence()) return per->error("expected a list of columns (may be empty)");
      for (const auto& p : per->items()) {
        PS_ASSIGN_OR_RETURN(std::string pc, p.as_string());
        PS_ASSIGN_OR_RETURN(size_t idx, col(p, s, pc));
        v.per.push_back(idx);
      }
      PS_ASSIGN_OR_RETURN(std::string ob, t->get_string("order_by"));
      PS_ASSIGN_OR_RETURN(v.order_by, col(*t, s, ob));
      PS_ASSIGN_OR_RETURN(v.n, t->get_int("n", 1));
      if (v.n <= 0) return t->find("n")->error("must be positive");
      PS_RETURN_IF_ERROR(t->reject_unknown_keys());
    }
    PS_ASSIGN_OR_RETURN(const ConfigNode* cols, node.get("columns"));
    if (!cols->is_map() || cols->entries().empty())
      return cols->error("expected {output_name: source_column, ...}");
    for (const auto& [out, src] : cols->entries()) {
      (void)cols->find(out);
      PS_ASSIGN_OR_RETURN(std::string sc, src.as_string());
      PS_ASSIGN_OR_RETURN(size_t idx, col(src, s, sc));
      v.out_names.push_back(out);
      v.out_cols.push_back(idx);
    }
    PS_RETURN_IF_ERROR(node.reject_unknown_keys());
    self->views_.push_back(std::move(v));
  }
  return self;
}

std::vector<std::string> Views::names() const {
  std::vector<std::string> out;
  for (const auto& v : views_) out.push_back(v.name);
  return out;
}

const Views::View* Views::find(const std::string& name) const {
  for (const auto& v : views_)
    if (v.name == name) return &v;
  return nullptr;
}

namespace {

Status as_int(const std::string& k, const std::string& val, int64_t& out) {
  try {
    size_t pos = 0;
    out = std::stoll(val, &pos);
    if (pos == val.size()) return Status::ok();
  } catch (const std::exception&) {
  }
  return Status::invalid("param '" + k + "' must be an integer, got '" + val + "'");
}

// Rows ordered by every column ascending.
bool rows_ascending(const core::Row& a, const core::Row& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    int c = a[i].compare(b[i]);
    if (c != 0) return c < 0;
  }
  return false;
}

}  // namespace

// A param names a view column (output name) or a column of the aggregate; `_min`/`_max`
// bound a range, anything else is an equality.
Status Views::apply_param(const View& v, const std::string& k, const std::string& val,
                          Filter& f) const {
  const core::Schema& s = v.from->output;
  if (k == "n" && v.top) {
    PS_RETURN_IF_ERROR(as_int(k, val, f.n));
    return f.n <= 0 ? Status::invalid("param 'n' must be positive") : Status::ok();
  }
  std::string base = k;
  bool is_min = k.size() > 4 && k.compare(k.size() - 4, 4, "_min") == 0;
  bool is_max = k.size() > 4 && k.compare(k.size() - 4, 4, "_max") == 0;
  if (is_min || is_max) base = k.substr(0, k.size() - 4);
  int idx = -1;
  for (size_t o = 0; o < v.out_names.size(); ++o)
    if (v.out_names[o] == base) idx = static_cast<int>(v.out_cols[o]);
  if (idx < 0) idx = s.index_of(base);
  if (idx < 0) return Status::invalid("unknown param '" + k + "' for view '" + v.name + "'");
  const size_t column = static_cast<size_t>(idx);
  if (!is_min && !is_max) {
    PS_ASSIGN_OR_RETURN(std::string eq, equality_value(s.field(column).type, k, val));
    f.equals.emplace_back(column, std::move(eq));
    return Status::ok();
  }
  int64_t x;
  auto t =
      s.field(column).type == core::Type::kTimestamp ? core::parse_timestamp(val) : std::nullopt;
  if (t)
    x = *t;
  else
    PS_RETURN_IF_ERROR(as_int(k, val, x));
  Range* r = nullptr;
  for (auto& w : f.where)
    if (w.column == column) r = &w;
  if (!r) {
    f.where.push_back({column, std::nullopt, std::nullopt});
    r = &f.where.back();
  }
  (is_min ? r->min : r->max) = x;
  return Status::ok();
}

bool Views::kept(const View& v, const Filter& f, const core::Row& r) {
  for (const auto& w : f.where) {
    auto x = number_of(r[w.column]);
    if (!x || (w.min && *x < *w.min) || (w.max && *x > *w.max)) return false;
  }
  for (const auto& [c, val] : f.equals)
    if (r[c].to_string() != val) return false;
  // SPEC section 4: a row whose reported value (or ranking value) is null is left out.
  for (size_t c : v.out_cols)
    if (r[c].is_null()) return false;
  return !v.top || !r[v.order_by].is_null();
}

// Largest order_by first within each `per` group, ties by the remaining columns ascending;
// keeps the first n of each group.
std::vector<core::Row> Views::top_n(const View& v, int64_t n, std::vector<core::Row> rows) {
  std::sort(rows.begin(), rows.end(), [&](const core::Row& a, const core::Row& b) {
    for (size_t p : v.per) {
      int c = a[p].compare(b[p]);
      if (c != 0) return c < 0;
    }
    int c = a[v.order_by].compare(b[v.order_by]);
    if (c != 0) return c > 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (i == v.order_by) continue;
      int k = a[i].compare(b[i]);
      if (k != 0) return k < 0;
    }
    return false;
  });
  std::vector<bool> keep(rows.size());
  int64_t taken = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    bool same = i > 0;
    for (size_t p : v.per) same = same && rows[i][p] == rows[i - 1][p];
    taken = same ? taken + 1 : 1;
    keep[i] = taken <= n;
  }
  std::vector<core::Row> top;
  for (size_t i = 0; i < rows.size(); ++i)
    if (keep[i]) top.push_back(std::move(rows[i]));
  return top;
}

core::Result<Views::Filter> Views::filter_of(const std::string& name,
                                             const std::map<std::string, std::string>& params,
                                             const View*& v) const {
  v = find(name);
  if (!v) return Status::not_found("unknown view '" + name + "'");
  Filter f{v->where, {}, v->n};
  for (const auto& [k, val] : params) PS_RETURN_IF_ERROR(apply_param(*v, k, val, f));
  return f;
}

// Cells are moved, never copied, and each stage's rows freed before the next: a view over
// a windowed aggregate grows with its windows, and so did this answer's transient memory.
ViewResult Views::finish(const View& v, const Filter& f, std::vector<core::Row> rows) {
  std::vector<core::Row> kept_rows;
  kept_rows.reserve(rows.size());
  for (auto& r : rows)
    if (kept(v, f, r)) kept_rows.push_back(std::move(r));
  std::vector<core::Row>().swap(rows);
  if (v.top) kept_rows = top_n(v, f.n, std::move(kept_rows));
  // An output column read once takes its cell; one read twice copies it but the last time.
  std::vector<bool> move_cell(v.out_cols.size(), true);
  for (size_t i = 0; i < v.out_cols.size(); ++i)
    for (size_t j = i + 1; j < v.out_cols.size(); ++j)
      if (v.out_cols[j] == v.out_cols[i]) move_cell[i] = false;
  ViewResult out;
  out.columns = v.out_names;
  out.rows.reserve(kept_rows.size());
  for (auto& r : kept_rows) {
    core::Row o;
    o.reserve(v.out_cols.size());
    for (size_t i = 0; i < v.out_cols.size(); ++i) {
      if (move_cell[i])
        o.push_back(std::move(r[v.out_cols[i]]));
      else
        o.push_back(r[v.out_cols[i]]);
    }
    out.rows.push_back(std::move(o));
    core::Row().swap(r);
  }
  std::vector<core::Row>().swap(kept_rows);
  std::stable_sort(out.rows.begin(), out.rows.end(), rows_ascending);
  return out;
}

core::Result<ViewResult> Views::query(const std::string& name,
                                      const std::map<std::string, std::string>& params,
                                      const StateStore::Reader& reader,
                                      const std::vector<int32_t>& tasks) const {
  const View* v = nullptr;
  PS_ASSIGN_OR_RETURN(Filter f, filter_of(name, params, v));
  std::vector<core::Row> rows;
  PS_RETURN_IF_ERROR(TaskAggregates::read_rows(*aggregates_, *v->from, reader, tasks, rows));
  return finish(*v, f, std::move(rows));
}

core::Result<const AggregateSpec*> Views::source_of(
    const std::string& name, const std::map<std::string, std::string>& params) const {
  const View* v = nullptr;
  PS_ASSIGN_OR_RETURN(Filter f, filter_of(name, params, v));
  (void)f;
  return v->from;
}

core::Result<ViewResult> Views::query_merged(
    const std::string& name, const std::map<std::string, std::string>& params,
    const std::map<std::string, GroupPartial>& merged) const {
  const View* v = nullptr;
  PS_ASSIGN_OR_RETURN(Filter f, filter_of(name, params, v));
  std::vector<core::Row> rows;
  PS_RETURN_IF_ERROR(TaskAggregates::rows_of(*v->from, merged, rows));
  return finish(*v, f, std::move(rows));
}

}  // namespace pinstream::state
