#include "stream/query/handler.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "stream/core/time.h"
#include "stream/query/partials.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

// Deeper than any request needs ({"view":..,"params":{..}} is 2): a bound checked before
// parsing, so a request of a million '[' costs one scan, not a million nested values.
constexpr int kMaxRequestDepth = 16;

bool nests_too_deep(std::string_view line) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxRequestDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// {"stats":true} and {"metrics":true}: anything but true is a malformed request.
bool flag_is_true(const json& req, const char* key) {
  return req[key].is_boolean() && req[key].get<bool>();
}

}  // namespace

bool AnswerCache::get(int64_t epoch, const std::string& key, std::string& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto e = by_epoch_.find(epoch);
  if (e == by_epoch_.end()) return false;
  auto it = e->second.find(key);
  if (it == e->second.end()) return false;
  answer = it->second;
  return true;
}

void AnswerCache::put(int64_t epoch, const std::string& key, const std::string& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!by_epoch_.count(epoch)) {
    // Computed on a snapshot older than every epoch kept: nobody asks for it again.
    if (by_epoch_.size() >= kEpochs && epoch < by_epoch_.begin()->first) return;
    by_epoch_[epoch];
    while (by_epoch_.size() > kEpochs) by_epoch_.erase(by_epoch_.begin());
  }
  auto& answers = by_epoch_[epoch];
  if (answers.size() >= max_entries_) answers.clear();
  answers[key] = answer;
}

namespace {

// Per stream counters.
void write_stream_counters(std::ostream& os, const CommittedView& v) {
  struct M {
    const char* name;
    const char* help;
    int64_t StreamCounters::*field;
  };
  const M metrics[] = {
      {"pinstream_records_read_total", "Raw records read", &StreamCounters::read},
      {"pinstream_records_clean_total", "Clean first records", &StreamCounters::clean},
      {"pinstream_records_dead_total", "Dead letters", &StreamCounters::dead},
      {"pinstream_records_duplicate_total", "Duplicates skipped", &StreamCounters::duplicates},
      {"pinstream_records_late_total", "Late records", &StreamCounters::late},
      {"pinstream_records_late_future_total",
       "Late records whose event time was too far ahead of the clock", &StreamCounters::future},
      {"pinstream_join_expired_total",
       "Clean parts that expired in the join before their partners came",
       &StreamCounters::expired}};
  for (const auto& m : metrics) {
    os << "# HELP " << m.name << " " << m.help << "\n# TYPE " << m.name << " counter\n";
    for (const auto& [name, c] : v.meta.counters)
      os << m.name << "{stream=\"" << name << "\"} " << c.*m.field << "\n";
  }
}

// Source lag and the latency histograms.
void write_lag_and_latency(std::ostream& os, const EngineMetrics& em) {
  if (!em.lag.empty()) {
    os << "# HELP pinstream_source_lag How far each stream's source is behind its end (unit "
          "label)\n"
          "# TYPE pinstream_source_lag gauge\n";
    for (const auto& [name, lag] : em.lag)
      os << "pinstream_source_lag{stream=\"" << name << "\",unit=\""
         << connectors::lag_unit_name(em.lag_unit) << "\"} " << lag << "\n";
  }
  struct H {
    const char* name;
    const char* help;
    const LatencyHistogram* h;
  };
  for (const H& h : {H{"pinstream_epoch_duration_seconds",
                       "Epoch length, first record to commit done", &em.epoch_ms},
                     H{"pinstream_commit_duration_seconds",
                       "Epoch commit: Parquet files, state write, Delta commits", &em.commit_ms}}) {
    os << "# HELP " << h.name << " " << h.help << "\n# TYPE " << h.name << " histogram\n";
    for (size_t i = 0; i < std::size(LatencyHistogram::kBoundsMs); ++i)
      os << h.name << "_bucket{le=\"" << LatencyHistogram::kBoundsMs[i] / 1000.0 << "\"} "
         << h.h->buckets[i] << "\n";
    os << h.name << "_bucket{le=\"+Inf\"} " << h.h->count << "\n"
       << h.name << "_sum " << h.h->sum_ms / 1000.0 << "\n"
       << h.name << "_count " << h.h->count << "\n";
  }
}

// CPU, upkeep, state size, epoch and uptime.
void write_process_metrics(std::ostream& os, const CommittedView& v, int64_t started_at_micros) {
  const EngineMetrics& em = v.metrics;
  os << "# HELP pinstream_table_encode_cpu_seconds_total CPU time spent encoding table files (all "
        "threads)\n"
        "# TYPE pinstream_table_encode_cpu_seconds_total "
        "counter\npinstream_table_encode_cpu_seconds_total "
     << static_cast<double>(em.encode_cpu_us) / 1e6 << "\n";
  struct C {
    const char* name;
    const char* help;
    int64_t value;
  };
  for (const C& c : {C{"pinstream_compaction_commits_total", "OPTIMIZE commits of auto-compaction",
                       em.upkeep.compaction_commits},
                     C{"pinstream_vacuum_runs_total", "Scheduled vacuum rounds over every table",
                       em.upkeep.vacuum_runs},
                     C{"pinstream_vacuum_files_deleted_total",
                       "Data files deleted by the scheduled vacuum", em.upkeep.vacuum_files},
                     C{"pinstream_vacuum_bytes_deleted_total",
                       "Bytes deleted by the scheduled vacuum", em.upkeep.vacuum_bytes}})
    os << "# HELP " << c.name << " " << c.help << "\n# TYPE " << c.name << " counter\n"
       << c.name << " " << c.value << "\n";
  os << "# HELP process_cpu_seconds_total CPU time of the process\n# TYPE "
        "process_cpu_seconds_total counter\n"
     << "process_cpu_seconds_total " << static_cast<double>(em.cpu_us) / 1e6 << "\n";
  os << "# HELP pinstream_state_bytes RocksDB approximate on-disk size\n# TYPE "
        "pinstream_state_bytes gauge\n"
     << "pinstream_state_bytes " << em.state_bytes << "\n";
  os << "# HELP pinstream_epoch Last committed epoch\n# TYPE pinstream_epoch "
        "gauge\npinstream_epoch "
     << v.epoch << "\n";
  int64_t now = core::system_clock().now_micros();
  os << "# HELP pinstream_uptime_seconds Uptime\n# TYPE pinstream_uptime_seconds "
        "gauge\npinstream_uptime_seconds "
     << (started_at_micros ? (now - started_at_micros) / 1'000'000 : 0) << "\n";
}

}  // namespace

std::string metrics_text(const CommittedView& v, int64_t started_at_micros) {
  std::ostringstream os;
  write_stream_counters(os, v);
  write_lag_and_latency(os, v.metrics);
  write_process_metrics(os, v, started_at_micros);
  return os.str();
}

std::string views_json(const QueryContext& ctx) {
  json names = json::array();
  if (ctx.views)
    for (const auto& n : ctx.views->names()) names.push_back(n);
  return json({{"ok", true}, {"views", names}}).dump();
}

std::string stats_json(const QueryContext& ctx) {
  CommittedView v = ctx.committed();
  json streams = json::object();
  for (const auto& [name, c] : v.meta.counters) {
    streams[name] = {{"read", c.read},           {"clean", c.clean},
                     {"dead", c.dead},           {"duplicates", c.duplicates},
                     {"late", c.late},           {"late_future", c.future},
                     {"join_expired", c.expired}};
    auto lag = v.metrics.lag.find(name);
    streams[name]["lag"] = lag != v.metrics.lag.end() ? json(lag->second) : json(nullptr);
  }
  // pipeline.tasks: partitions: the same counters per task (no lag, no join_expired).
  json tasks = json::object();
  for (const auto& [task, counters] : v.meta.task_counters)
    for (const auto& [name, c] : counters)
      tasks[std::to_string(task)][name] = {{"read", c.read}, {"clean", c.clean},
                                           {"dead", c.dead}, {"duplicates", c.duplicates},
                                           {"late", c.late}, {"late_future", c.future}};
  int64_t now = core::system_clock().now_micros();
  const int64_t committed_at = v.meta.committed_at_micros;
  json j = {{"ok", true},
            {"epoch", v.epoch},
            {"streams", streams},
            {"lag_unit", connectors::lag_unit_name(v.metrics.lag_unit)},
            {"positions", v.meta.positions},
            {"uptime", ctx.started_at_micros ? (now - ctx.started_at_micros) / 1'000'000 : 0},
            {"committed_at", committed_at ? core::format_timestamp(committed_at) : ""}};
  if (!tasks.empty()) j["tasks"] = tasks;
  // Shared window tables (the writer of a group): the first window waiting per table.
  if (!v.metrics.windows_waiting.empty()) {
    json waiting = json::array();
    for (const auto& w : v.metrics.windows_waiting)
      waiting.push_back({{"table", w.table},
                         {"window_start", core::format_timestamp(w.window_start)},
                         {"waiting_for_tasks", w.tasks},
                         {"windows", w.windows}});
    j["windows_waiting"] = waiting;
  }
  if (ctx.shared) j["members"] = json::parse(ctx.shared->members());
  if (ctx.shared && ctx.shared->complete_stats) return ctx.shared->complete_stats(j.dump());
  return j.dump();
}

namespace {

core::Result<Answer> answer_at(const ViewRequest& request, const QueryContext& ctx,
                               const CommittedView& v) {
  if (!ctx.views) return core::Status::not_found("this pipeline has no views");
  if (!v.reader) return core::Status::unavailable("no committed state yet");
  if (ctx.shared) return ctx.shared->merged(request, v);
  // Every task of the committed epoch: their partials merge into the rows.
  const std::vector<int32_t> tasks = v.meta.state_tasks();
  PS_ASSIGN_OR_RETURN(state::ViewResult result,
                      ctx.views->query(request.view, request.params, *v.reader, tasks));
  Answer a;
  a.epoch = v.epoch;
  a.tasks.covered = a.tasks.total = static_cast<int64_t>(tasks.size());
  a.columns = std::move(result.columns);
  a.rows = std::move(result.rows);
  return a;
}

}  // namespace

core::Result<Answer> query_view(const ViewRequest& request, const QueryContext& ctx) {
  return answer_at(request, ctx, ctx.committed());
}

core::Result<std::string> view_json(const ViewRequest& request, const QueryContext& ctx) {
  CommittedView v = ctx.committed();
  std::string key;
  // A merged answer depends on the peers' epochs too: computed at every request.
  if (ctx.cache && ctx.views && v.reader && !ctx.shared) {
    key = request.view;
    for (const auto& [k, val] : request.params) key += '\0' + k + '\0' + val;
    std::string cached;
    if (ctx.cache->get(v.epoch, key, cached)) return cached;
  }
  PS_ASSIGN_OR_RETURN(Answer answer, answer_at(request, ctx, v));
  std::string line = answer_json(answer);
  if (ctx.cache && !key.empty()) ctx.cache->put(v.epoch, key, line);
  return line;
}

core::Result<std::string> partials_line(const ViewRequest& request, const QueryContext& ctx) {
  if (!ctx.views) return core::Status::not_found("this pipeline has no views");
  CommittedView v = ctx.committed();
  PS_ASSIGN_OR_RETURN(const state::AggregateSpec* spec,
                      ctx.views->source_of(request.view, request.params));
  // A function of the epoch: peers asking again before the next commit get it from memory.
  const std::string key = std::string("\x02partials\x02") + request.view;
  std::string cached;
  if (ctx.cache && v.reader && ctx.cache->get(v.epoch, key, cached)) return cached;
  PS_ASSIGN_OR_RETURN(TaskPartials p, read_partials(*ctx.views, request.view, request.params, v,
                                                    v.meta.state_tasks()));
  std::string line = partials_json(request.view, *spec, p);
  if (ctx.cache) ctx.cache->put(v.epoch, key, line);
  return line;
}

namespace {

// A request line, parsed (SPEC section 7).
struct Request {
  enum class Kind { kView, kList, kStats, kMetrics, kRedrive } kind = Kind::kView;
  ViewRequest view;
  std::string redrive;  // the "redrive" object as JSON text
};

core::Status bad(std::string message) { return core::Status::invalid(std::move(message)); }

core::Result<ViewRequest> parse_view(const json& req) {
  if (!req.contains("view"))
    return bad(R"(expected one of "view", "list", "stats", "metrics", "redrive")");
  if (!req["view"].is_string()) return bad(R"("view" must be a string)");
  ViewRequest out;
  out.view = req["view"].get<std::string>();
  if (!req.contains("params")) return out;
  if (!req["params"].is_object()) return bad(R"("params" must be an object)");
  for (const auto& [k, v] : req["params"].items()) {
    if (v.is_string())
      out.params[k] = v.get<std::string>();
    else if (v.is_number() || v.is_boolean())
      out.params[k] = v.dump();
    else
      return bad("param '" + k + "' must be a string or a number");
  }
  return out;
}

// InvalidArgument (bad_request) for a malformed request.
core::Result<Request> parse_request(std::string_view line) {
  if (nests_too_deep(line))
    return bad("request nests deeper than " + std::to_string(kMaxRequestDepth) + " levels");
  json req = json::parse(line.begin(), line.end(), nullptr, false);
  if (req.is_discarded()) return bad("request is not valid JSON");
  if (!req.is_object()) return bad("request must be a JSON object");
  Request r;
  if (req.contains("list")) {
    if (req["list"] != "views") return bad(R"("list" must be "views")");
    r.kind = Request::Kind::kList;
  } else if (req.contains("stats")) {
    if (!flag_is_true(req, "stats")) return bad(R"("stats" must be true)");
    r.kind = Request::Kind::kStats;
  } else if (req.contains("redrive")) {
    if (!req["redrive"].is_object()) return bad(R"("redrive" must be an object)");
    r.kind = Request::Kind::kRedrive;
    r.redrive = req["redrive"].dump();
  } else if (req.contains("metrics")) {
    if (!flag_is_true(req, "metrics")) return bad(R"("metrics" must be true)");
    r.kind = Request::Kind::kMetrics;
  } else {
    PS_ASSIGN_OR_RETURN(r.view, parse_view(req));
  }
  return r;
}

std::string answer(const Request& r, const QueryContext& ctx) {
  switch (r.kind) {
    case Request::Kind::kList:
      return views_json(ctx);
    case Request::Kind::kStats:
      return stats_json(ctx);
    case Request::Kind::kRedrive:
      if (!ctx.redrive)
        return error_json(ErrorCode::kUnavailable,
                          "redrive is served only on a running daemon's socket");
      return ctx.redrive(r.redrive);
    case Request::Kind::kMetrics: {
      std::string text =
          ctx.metrics ? ctx.metrics() : metrics_text(ctx.committed(), ctx.started_at_micros);
      return json({{"ok", true}, {"metrics", text}}).dump();
    }
    case Request::Kind::kView:
      break;
  }
  auto line = view_json(r.view, ctx);
  if (!line) return error_json(view_error_code(line.error()), line.error().message());
  return std::move(line).value();
}

}  // namespace

std::string handle_request(std::string_view line, const QueryContext& ctx) {
  try {
    auto request = parse_request(line);
    if (!request) return error_json(ErrorCode::kBadRequest, request.error().message());
    return answer(*request, ctx);
  } catch (const std::exception& e) {
    return error_json(ErrorCode::kBadRequest, e.what());
  }
}

bool answers_from_peers(std::string_view line, const QueryContext& ctx) {
  if (!ctx.shared || !ctx.views) return false;
  try {
    auto request = parse_request(line);
    return request && request->kind == Request::Kind::kView;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace pinstream::runtime
