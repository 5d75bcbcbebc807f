#include "state/views.h"

#include <algorithm>

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
core::Result<std::string> equality_value(core::Type type, const std::string& k, const std::string& val) {
  if (type == core::Type::kTimestamp) {
    if (auto t = core::parse_timestamp(val)) return core::format_timestamp(*t);
    return Status::invalid("param '" + k + "' must be a timestamp (YYYY-MM-DDTHH:MM:SS), got '" + val + "'");
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

core::Result<std::unique_ptr<Views>> Views::build(const ConfigNode& config, const Aggregates& aggregates) {
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
        if (r.find("min")) { PS_ASSIGN_OR_RETURN(range.min, r.get_int("min")); }
        if (r.find("max")) { PS_ASSIGN_OR_RETURN(range.max, r.get_int("max")); }
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
    if (!cols->is_map() || cols->entries().empty()) return cols->error("expected {output_name: source_column, ...}");
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

core::Result<ViewResult> Views::query(const std::string& name, const std::map<std::string, std::string>& params,
                                      const StateStore::Reader& reader) const {
  const View* v = nullptr;
  for (const auto& x : views_)
    if (x.name == name) v = &x;
  if (!v) return Status::not_found("unknown view '" + name + "'");
  const core::Schema& s = v->from->output;
  std::vector<Range> where = v->where;
  std::vector<std::pair<size_t, std::string>> equals;
  int64_t n = v->n;
  for (const auto& param : params) {
    const std::string& k = param.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& val = param.second;
    auto as_int = [&](int64_t& out) -> Status {
      try {
        size_t pos = 0;
        out = std::stoll(val, &pos);
        if (pos == val.size()) return Status::ok();
      } catch (const std::exception&) {
      }
      return Status::invalid("param '" + k + "' must be an integer, got '" + val + "'");
    };
    if (k == "n" && v->top) {
      PS_RETURN_IF_ERROR(as_int(n));
      if (n <= 0) return Status::invalid("param 'n' must be positive");
      continue;
    }
    std::string base = k;
    bool is_min = k.size() > 4 && k.compare(k.size() - 4, 4, "_min") == 0;
    bool is_max = k.size() > 4 && k.compare(k.size() - 4, 4, "_max") == 0;
    if (is_min || is_max) base = k.substr(0, k.size() - 4);
    // A param names a view column (output name) or a column of the aggregate.
    int idx = -1;
    for (size_t o = 0; o < v->out_names.size(); ++o)
      if (v->out_names[o] == base) idx = static_cast<int>(v->out_cols[o]);
    if (idx < 0) idx = s.index_of(base);
    if (idx < 0) return Status::invalid("unknown param '" + k + "' for view '" + name + "'");
    if (is_min || is_max) {
      int64_t x;
      auto t = s.field(static_cast<size_t>(idx)).type == core::Type::kTimestamp ? core::parse_timestamp(val)
                                                                              : std::nullopt;
      if (t) x = *t;
      else PS_RETURN_IF_ERROR(as_int(x));
      Range* r = nullptr;
      for (auto& w : where)
        if (w.column == static_cast<size_t>(idx)) r = &w;
      if (!r) {
        where.push_back({static_cast<size_t>(idx), std::nullopt, std::nullopt});
        r = &where.back();
      }
      (is_min ? r->min : r->max) = x;
    } else {
      PS_ASSIGN_OR_RETURN(std::string eq, equality_value(s.field(static_cast<size_t>(idx)).type, k, val));
      equals.emplace_back(static_cast<size_t>(idx), std::move(eq));
    }
  }
  std::vector<core::Row> rows;
  PS_RETURN_IF_ERROR(aggregates_->read_rows(*v->from, reader, rows));
  std::vector<core::Row> kept;
  for (auto& r : rows) {
    bool ok = true;
    for (const auto& w : where) {
      auto x = number_of(r[w.column]);
      if (!x || (w.min && *x < *w.min) || (w.max && *x > *w.max)) ok = false;
    }
    for (const auto& [c, val] : equals)
      if (r[c].to_string() != val) ok = false;
    // SPEC section 4: a row whose reported value (or ranking value) is null is left out.
    for (size_t c : v->out_cols) ok = ok && !r[c].is_null();
    if (v->top) ok = ok && !r[v->order_by].is_null();
    if (ok) kept.push_back(std::move(r));
  }
  if (v->top) {
    // Largest order_by first within each `per` group; ties by the remaining columns asc.
    std::sort(kept.begin(), kept.end(), [&](const core::Row& a, const core::Row& b) {
      for (size_t p : v->per) {
        int c = a[p].compare(b[p]);
        if (c != 0) return c < 0;
      }
      int c = a[v->order_by].compare(b[v->order_by]);
      if (c != 0) return c > 0;
      for (size_t i = 0; i < a.size(); ++i) {
        if (i == v->order_by) continue;
        int k = a[i].compare(b[i]);
        if (k != 0) return k < 0;
      }
      return false;
    });
    std::vector<bool> keep(kept.size());
    int64_t taken = 0;
    for (size_t i = 0; i < kept.size(); ++i) {
      bool same = i > 0;
      for (size_t p : v->per) same = same && kept[i][p] == kept[i - 1][p];
      taken = same ? taken + 1 : 1;
      keep[i] = taken <= n;
    }
    std::vector<core::Row> top;
    for (size_t i = 0; i < kept.size(); ++i)
      if (keep[i]) top.push_back(std::move(kept[i]));
    kept = std::move(top);
  }
  ViewResult out;
  out.columns = v->out_names;
  for (size_t c : v->out_cols) out.types.push_back(s.field(c).type);
  for (auto& r : kept) {
    core::Row o;
    for (size_t c : v->out_cols) o.push_back(r[c]);
    out.rows.push_back(std::move(o));
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const core::Row& a, const core::Row& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      int c = a[i].compare(b[i]);
      if (c != 0) return c < 0;
    }
    return false;
  });
  return out;
}

}  // namespace pinstream::state
