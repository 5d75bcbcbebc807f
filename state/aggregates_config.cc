// Aggregates::build: the YAML `aggregates:` section (SPEC section 4) parsed into
// AggregateSpecs against the joined rows' schema, each aggregate's committed groups loaded.
#include <set>

#include "state/aggregates.h"

namespace pinstream::state {
using core::ConfigNode;
using core::Status;
using core::Type;

namespace {

core::Result<size_t> column(const ConfigNode& where, const core::Schema& input,
                            const std::string& name) {
  int i = input.index_of(name);
  if (i < 0)
    return where.error("unknown column '" + name + "' (columns: " + input.to_string() + ")");
  return static_cast<size_t>(i);
}

Status parse_measure(const ConfigNode& m, const core::Schema& input, AggregateSpec& a) {
  if (m.is_scalar()) {
    if (m.scalar() != "count")
      return m.error("unknown measure '" + m.scalar() +
                     "' (count, or a map: sum, min, max, argmax, median)");
    a.measure = Measure::kCount;
    a.output.add({"count", Type::kLong, false});
    return Status::ok();
  }
  if (!m.is_map()) return m.error("expected a measure");
  static const std::pair<const char*, Measure> kinds[] = {{"sum", Measure::kSum},
                                                          {"min", Measure::kMin},
                                                          {"max", Measure::kMax},
                                                          {"argmax", Measure::kArgmax},
                                                          {"median", Measure::kMedian}};
  int found = 0;
  for (const auto& [k, kind] : kinds) {
    const ConfigNode* n = m.find(k);
    if (!n) continue;
    ++found;
    a.measure = kind;
    PS_ASSIGN_OR_RETURN(std::string col, n->as_string());
    PS_ASSIGN_OR_RETURN(a.column_idx, column(*n, input, col));
    core::Field f = input.field(a.column_idx);
    if ((kind == Measure::kSum || kind == Measure::kMedian) && f.type != Type::kLong &&
        f.type != Type::kDouble && !(kind == Measure::kMedian && f.type == Type::kTimestamp))
      return n->error("column '" + col + "' is not numeric");
    f.nullable = true;
    f.name = kind == Measure::kArgmax ? col : k;
    a.output.add(f);
  }
  if (found != 1) return m.error("a measure names exactly one of sum, min, max, argmax, median");
  if (a.measure == Measure::kArgmax) {
    PS_ASSIGN_OR_RETURN(a.skip_nulls, m.get_bool("skip_nulls", true));
    if (const ConfigNode* keep = m.find("keep")) {
      PS_ASSIGN_OR_RETURN(auto cols, keep->as_string_list());
      for (const auto& c : cols) {
        PS_ASSIGN_OR_RETURN(size_t idx, column(*keep, input, c));
        a.keep_idx.push_back(idx);
        a.output.add(input.field(idx));
      }
    }
  }
  return m.reject_unknown_keys();
}

}  // namespace

core::Result<std::unique_ptr<Aggregates>> Aggregates::build(StateStore& store,
                                                            const ConfigNode& config,
                                                            const core::Schema& input,
                                                            const std::string& et,
                                                            const std::string& key_prefix) {
  std::unique_ptr<Aggregates> self(new Aggregates());
  self->store_ = &store;
  self->prefix_ = key_prefix;
  self->event_time_idx_ = et.empty() ? -1 : input.index_of(et);
  if (!config.is_map()) return config.error("expected a map of aggregates");
  for (const auto& [name, node] : config.entries()) {
    (void)config.find(name);
    Agg agg;
    AggregateSpec& a = agg.spec;
    a.name = name;
    if (!node.is_map()) return node.error("expected a map {group_by, measure, window, table}");
    PS_ASSIGN_OR_RETURN(const ConfigNode* gb, node.get("group_by"));
    PS_ASSIGN_OR_RETURN(auto groups, gb->as_string_list());
    if (const ConfigNode* w = node.find("window")) {
      if (self->event_time_idx_ < 0)
        return w->error("windows need a stream with `event_time` feeding the join");
      a.windowed = true;
      int64_t tumbling, size, slide;
      PS_ASSIGN_OR_RETURN(tumbling, w->get_int("tumbling_ms", 0));
      PS_ASSIGN_OR_RETURN(size, w->get_int("size_ms", 0));
      PS_ASSIGN_OR_RETURN(slide, w->get_int("slide_ms", 0));
      PS_RETURN_IF_ERROR(w->reject_unknown_keys());
      if (tumbling > 0 && size == 0 && slide == 0) size = slide = tumbling;
      if (size <= 0 || slide <= 0 || slide > size || (tumbling > 0 && size != tumbling))
        return w->error(
            "a window is {tumbling_ms: N} or {size_ms: N, slide_ms: M} with 0 < M <= N");
      a.size_micros = size * 1000;
      a.slide_micros = slide * 1000;
      a.output.add({"window_start", Type::kTimestamp, false});
      a.output.add({"window_end", Type::kTimestamp, false});
    }
    for (const auto& g : groups) {
      PS_ASSIGN_OR_RETURN(size_t idx, column(*gb, input, g));
      a.group_idx.push_back(idx);
      a.group_schema.add(input.field(idx));
      a.output.add(input.field(idx));
    }
    PS_ASSIGN_OR_RETURN(const ConfigNode* m, node.get("measure"));
    PS_RETURN_IF_ERROR(parse_measure(*m, input, a));
    PS_ASSIGN_OR_RETURN(a.table, node.get_string("table", ""));
    if (!a.table.empty() && !a.windowed)
      return node.find("table")->error("only windowed aggregates have a table");
    PS_RETURN_IF_ERROR(node.reject_unknown_keys());
    std::set<std::string> names;
    for (const auto& f : a.output.fields())
      if (!names.insert(f.name).second)
        return node.error("output column '" + f.name +
                          "' appears twice (group_by, measure and keep must differ)");
    PS_RETURN_IF_ERROR(self->load(agg, store.live()));
    self->aggs_.push_back(std::move(agg));
  }
  return self;
}

}  // namespace pinstream::state
