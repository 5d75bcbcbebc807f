#include "stream/plan.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Status;

Plan::~Plan() {
  views.reset();
  aggregates.reset();
  join.reset();
  scratch_store_.reset();
  if (!scratch_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(scratch_dir_, ec);
  }
}

core::Result<std::unique_ptr<Plan>> Plan::build(const PipelineConfig& cfg, state::StateStore* store) {
  auto plan = std::make_unique<Plan>();
  if (!store) {
    plan->scratch_dir_ = (fs::temp_directory_path() /
                          ("pinstream-plan-" + std::to_string(::getpid()) + "-" +
                           std::to_string(reinterpret_cast<uintptr_t>(plan.get()))))
                             .string();
    PS_ASSIGN_OR_RETURN(plan->scratch_store_, state::StateStore::open(plan->scratch_dir_));
    store = plan->scratch_store_.get();
  }
  std::vector<core::Schema> schemas;
  for (const auto& sc : cfg.streams) {
    StreamPlan s;
    s.cfg = &sc;
    PS_ASSIGN_OR_RETURN(s.cleaner, transforms::Cleaner::build(*sc.input, sc.steps, sc.key,
                                                              static_cast<size_t>(cfg.runtime.max_record_bytes),
                                                              sc.rescue));
    const core::Schema& out = s.cleaner->output_schema();
    s.key_index = s.cleaner->key_index();
    if (!sc.event_time.empty()) {
      s.event_time_index = out.index_of(sc.event_time);
      if (s.event_time_index < 0 ||
          out.field(static_cast<size_t>(s.event_time_index)).type != core::Type::kTimestamp)
        return Status::invalid(cfg.file + ": key 'streams." + sc.name + ".event_time': '" + sc.event_time +
                               "' is not a timestamp column of the cleaned stream (" + out.to_string() + ")");
      if (plan->event_time_stream >= 0)
        return Status::invalid(cfg.file + ": key 'streams." + sc.name +
                               ".event_time': only one stream may carry the event time");
      plan->event_time_stream = static_cast<int>(plan->streams.size());
      plan->allowed_lateness_micros = sc.allowed_lateness_ms * 1000;
      plan->max_future_micros = sc.max_future_ms * 1000;
    }
    schemas.push_back(out);
    plan->streams.push_back(std::move(s));
  }
  // Which thread encodes each cleaned table: the ingest thread also decodes, cleans and
  // dedups every record, the engine thread joins and aggregates. With a join, the widest
  // stream's table stays on the ingest thread and the others move to the engine thread
  // (Pinterest pipeline, 200k posts: the ingest thread was busy 100% of the run, the engine
  // thread 65%; moving geo and user: 1.34 -> 1.28 s median of 7); without one, the engine
  // thread has nothing else to do and encodes them all.
  size_t widest = 0;
  for (size_t i = 0; i < plan->streams.size(); ++i)
    if (plan->streams[i].cleaner->output_schema().size() > plan->streams[widest].cleaner->output_schema().size()) widest = i;
  for (size_t i = 0; i < plan->streams.size(); ++i) plan->streams[i].table_on_ingest = cfg.has_join && i == widest;
  if (!cfg.has_join) return plan;
  std::vector<std::string> names;
  std::vector<core::Schema> js;
  for (size_t k = 0; k < cfg.join.streams.size(); ++k) {
    auto idx = static_cast<size_t>(cfg.stream_index(cfg.join.streams[k]));
    plan->streams[idx].join_slot = static_cast<int>(k);
    names.push_back(cfg.join.streams[k]);
    js.push_back(schemas[idx]);
  }
  PS_ASSIGN_OR_RETURN(plan->join, state::Join::build(*store, names, js, cfg.join.key,
                                                     cfg.join.expire_after_ms * 1000));
  PS_ASSIGN_OR_RETURN(transforms::StepChain chain,
                      transforms::StepChain::build(cfg.join.derive, plan->join->output_schema()));
  plan->derive.emplace(std::move(chain));
  std::string et = plan->event_time_stream >= 0
                       ? plan->streams[static_cast<size_t>(plan->event_time_stream)].cfg->event_time
                       : "";
  if (cfg.aggregates) {
    PS_ASSIGN_OR_RETURN(plan->aggregates,
                        state::Aggregates::build(*store, *cfg.aggregates, plan->derive->output_schema(), et));
    if (cfg.views) {
      PS_ASSIGN_OR_RETURN(plan->views, state::Views::build(*cfg.views, *plan->aggregates));
    }
    // Joined rows feed only the derive steps and the aggregates: columns neither reads are
    // left out of the join's copy of each part.
    const core::Schema& derived = plan->derive->output_schema();
    std::vector<size_t> used;
    for (const state::AggregateSpec* a : plan->aggregates->specs()) {
      used.insert(used.end(), a->group_idx.begin(), a->group_idx.end());
      used.insert(used.end(), a->keep_idx.begin(), a->keep_idx.end());
      if (a->measure != state::Measure::kCount) used.push_back(a->column_idx);
    }
    if (!et.empty() && derived.index_of(et) >= 0) used.push_back(static_cast<size_t>(derived.index_of(et)));
    auto cols = plan->join->part_columns(plan->derive->inputs_needed(used));
    for (size_t k = 0; k < cfg.join.streams.size(); ++k)
      plan->streams[static_cast<size_t>(cfg.stream_index(cfg.join.streams[k]))].join_columns = cols[k];
  }
  return plan;
}

std::string Plan::describe() const {
  std::ostringstream os;
  for (const auto& s : streams)
    os << "  cleaned " << s.cfg->name << ": " << s.cleaner->output_schema().to_string() << "\n";
  if (derive) {
    os << "  joined+derived: " << derive->output_schema().to_string() << "\n";
    os << "  join keeps (read by derive steps and aggregates):";
    for (const auto& s : streams) {
      if (s.join_slot < 0) continue;
      const core::Schema& in = s.cleaner->output_schema();
      os << " " << s.cfg->name << "(";
      if (s.join_columns.empty()) os << "all";
      for (size_t i = 0; i < s.join_columns.size(); ++i) os << (i ? ", " : "") << in.field(s.join_columns[i]).name;
      os << ")";
    }
    os << "\n";
  }
  for (bool ingest : {true, false}) {
    os << (ingest ? "  tables encoded on the ingest thread:" : "; on the engine thread:");
    size_t n = 0;
    for (const auto& s : streams)
      if (!s.cfg->table.empty() && s.table_on_ingest == ingest) os << " " << s.cfg->table, ++n;
    if (n == 0) os << " none";
  }
  os << "\n";
  if (aggregates) {
    for (const auto& [name, schema] : aggregates->window_tables())
      os << "  window table " << name << ": " << schema.to_string() << "\n";
  }
  if (views) {
    os << "  views:";
    for (const auto& v : views->names()) os << " " << v;
    os << "\n";
  }
  return os.str();
}

}  // namespace pinstream::runtime
