#include "stream/plan.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "state/task_prefix.h"

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

Status Plan::open_scratch_store() {
  scratch_dir_ =
      (fs::temp_directory_path() / ("pinstream-plan-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(reinterpret_cast<uintptr_t>(this))))
          .string();
  PS_ASSIGN_OR_RETURN(scratch_store_, state::StateStore::open(scratch_dir_));
  return Status::ok();
}

Status Plan::add_stream(const PipelineConfig& cfg, const StreamConfig& sc) {
  StreamPlan s;
  s.cfg = &sc;
  PS_ASSIGN_OR_RETURN(s.cleaner, transforms::Cleaner::build(
                                     *sc.input, sc.steps, sc.key,
                                     static_cast<size_t>(cfg.runtime.max_record_bytes), sc.rescue));
  const core::Schema& out = s.cleaner->output_schema();
  s.key_index = s.cleaner->key_index();
  if (!sc.event_time.empty()) {
    const std::string key = cfg.file + ": key 'streams." + sc.name + ".event_time': ";
    s.event_time_index = out.index_of(sc.event_time);
    if (s.event_time_index < 0 ||
        out.field(static_cast<size_t>(s.event_time_index)).type != core::Type::kTimestamp)
      return Status::invalid(key + "'" + sc.event_time +
                             "' is not a timestamp column of the cleaned stream (" +
                             out.to_string() + ")");
    if (event_time_stream >= 0)
      return Status::invalid(key + "only one stream may carry the event time");
    event_time_stream = static_cast<int>(streams.size());
    allowed_lateness_micros = sc.allowed_lateness_ms * 1000;
    max_future_micros = sc.max_future_ms * 1000;
  }
  streams.push_back(std::move(s));
  return Status::ok();
}

// Which thread encodes each cleaned table: the ingest thread also decodes, cleans and dedups
// every record, the engine thread joins and aggregates. With a join, the widest stream's
// table stays on the ingest thread and the others move to the engine thread, which has time
// to spare; without one, the engine thread has nothing else to do and encodes them all
// (bench/README.md, "Which thread encodes which table").
void Plan::assign_table_threads(bool has_join) {
  size_t widest = 0;
  for (size_t i = 0; i < streams.size(); ++i)
    if (streams[i].cleaner->output_schema().size() >
        streams[widest].cleaner->output_schema().size())
      widest = i;
  for (size_t i = 0; i < streams.size(); ++i) streams[i].table_on_ingest = has_join && i == widest;
}

core::Result<std::unique_ptr<state::Join>> Plan::build_task_join(const PipelineConfig& cfg,
                                                                 state::StateStore& store,
                                                                 int32_t task) const {
  std::vector<std::string> names;
  std::vector<core::Schema> schemas;
  for (const auto& name : cfg.join.streams) {
    names.push_back(name);
    schemas.push_back(
        streams[static_cast<size_t>(cfg.stream_index(name))].cleaner->output_schema());
  }
  return state::Join::build(store, std::move(names), std::move(schemas), cfg.join.key,
                            cfg.join.expire_after_ms * 1000, state::task_prefix(task));
}

Status Plan::build_join(const PipelineConfig& cfg, state::StateStore& store) {
  for (size_t k = 0; k < cfg.join.streams.size(); ++k)
    streams[static_cast<size_t>(cfg.stream_index(cfg.join.streams[k]))].join_slot =
        static_cast<int>(k);
  PS_ASSIGN_OR_RETURN(join, build_task_join(cfg, store, 0));
  PS_ASSIGN_OR_RETURN(transforms::StepChain chain,
                      transforms::StepChain::build(cfg.join.derive, join->output_schema()));
  derive.emplace(std::move(chain));
  return Status::ok();
}

Status Plan::build_aggregates(const PipelineConfig& cfg, state::StateStore& store) {
  const std::string et =
      event_time_stream >= 0 ? streams[static_cast<size_t>(event_time_stream)].cfg->event_time : "";
  const core::Schema& derived = derive->output_schema();
  PS_ASSIGN_OR_RETURN(aggregates, state::Aggregates::build(store, *cfg.aggregates, derived, et));
  if (cfg.views) {
    PS_ASSIGN_OR_RETURN(views, state::Views::build(*cfg.views, *aggregates));
  }
  // Joined rows feed only the derive steps and the aggregates: columns neither reads are
  // left out of the join's copy of each part.
  std::vector<size_t> used;
  for (const state::AggregateSpec* a : aggregates->specs()) {
    used.insert(used.end(), a->group_idx.begin(), a->group_idx.end());
    used.insert(used.end(), a->keep_idx.begin(), a->keep_idx.end());
    if (a->measure != state::Measure::kCount) used.push_back(a->column_idx);
  }
  if (!et.empty() && derived.index_of(et) >= 0)
    used.push_back(static_cast<size_t>(derived.index_of(et)));
  auto cols = join->part_columns(derive->inputs_needed(used));
  for (size_t k = 0; k < cfg.join.streams.size(); ++k)
    streams[static_cast<size_t>(cfg.stream_index(cfg.join.streams[k]))].join_columns = cols[k];
  return Status::ok();
}

core::Result<std::unique_ptr<Plan>> Plan::build(const PipelineConfig& cfg,
                                                state::StateStore* store) {
  auto plan = std::make_unique<Plan>();
  if (!store) {
    PS_RETURN_IF_ERROR(plan->open_scratch_store());
    store = plan->scratch_store_.get();
  }
  for (const auto& sc : cfg.streams) PS_RETURN_IF_ERROR(plan->add_stream(cfg, sc));
  plan->assign_table_threads(cfg.has_join);
  if (!cfg.has_join) return plan;
  PS_RETURN_IF_ERROR(plan->build_join(cfg, *store));
  if (cfg.aggregates) PS_RETURN_IF_ERROR(plan->build_aggregates(cfg, *store));
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
      for (size_t i = 0; i < s.join_columns.size(); ++i)
        os << (i ? ", " : "") << in.field(s.join_columns[i]).name;
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
