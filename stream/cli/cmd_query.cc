// `pinstream query VIEW [--socket P | --config F] [--format json|table|csv] [--param K=V]...
//  [--timeout-ms N]`
// Asks the running daemon; with --config and no daemon, answers from the committed state.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "stream/checkpoint_store.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/core/time.h"
#include "stream/peer_registry.h"
#include "stream/plan.h"
#include "stream/query/answer.h"
#include "stream/query/client.h"
#include "stream/query/handler.h"
#include "stream/task_checkpoint.h"
#include "stream/task_guard.h"

namespace pinstream::cli {
namespace {

struct QueryArgs {
  std::string view, socket, config, format = "table";
  std::vector<std::string> params;
  bool list = false, stats = false, metrics = false;
  int timeout_ms = 10000;
};

core::Result<std::string> build_request(const QueryArgs& a) {
  nlohmann::json req;
  if (a.list) return std::string(R"({"list":"views"})");
  if (a.stats) return std::string(R"({"stats":true})");
  if (a.metrics) return std::string(R"({"metrics":true})");
  if (a.view.empty())
    return core::Status::invalid("name a view (pinstream query --list shows them)");
  req["view"] = a.view;
  req["params"] = nlohmann::json::object();
  for (const auto& p : a.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return core::Status::invalid("--param expects K=V, got '" + p + "'");
    req["params"][p.substr(0, eq)] = p.substr(eq + 1);
  }
  return req.dump();
}

// The counters of `task`'s newest checkpoint (a task handed over at a member's stop).
core::Result<std::optional<runtime::TaskCountersAt>> checkpoint_counters(
    runtime::TaskCheckpoints& cks, int32_t task) {
  PS_ASSIGN_OR_RETURN(std::optional<runtime::TaskCheckpoint> ck, cks.newest(task));
  if (!ck) return std::optional<runtime::TaskCountersAt>();
  return std::optional<runtime::TaskCountersAt>(runtime::TaskCountersAt{ck->epoch, ck->counters});
}

// Answers from the committed state on disk (no daemon running).
core::Result<std::string> answer_offline(const runtime::PipelineConfig& cfg,
                                         const std::string& request) {
  state::StateStore::Options so;
  so.read_only = true;
  PS_ASSIGN_OR_RETURN(auto store, state::StateStore::open(cfg.runtime.state_dir(), so));
  PS_ASSIGN_OR_RETURN(auto plan, runtime::Plan::build(cfg, store.get()));
  runtime::CommittedView view;
  view.reader = store->snapshot();
  PS_ASSIGN_OR_RETURN(auto raw, view.reader->get(runtime::kEpochMetaKey));
  if (raw) {
    PS_ASSIGN_OR_RETURN(view.meta, runtime::EpochMeta::from_json(*raw));
    view.epoch = view.meta.epoch;
  }
  runtime::QueryContext ctx;
  ctx.committed = [&view] { return view; };
  ctx.views = plan->views.get();
  std::unique_ptr<runtime::CheckpointStore> peers_store;
  if (runtime::shares_tasks(cfg) && ctx.views) {
    // A stopped member of a shared pipeline: its own tasks merged with the live members'
    // (their records read once), the others named as missing.
    PS_ASSIGN_OR_RETURN(peers_store, runtime::open_checkpoint_store(cfg.runtime.checkpoints_dir(),
                                                                    cfg.runtime.data_dir));
    runtime::PeerView pv;
    pv.self.instance = runtime::member_instance(cfg);
    pv.stale_ms = cfg.runtime.peer_stale_ms;
    pv.peers = runtime::read_peer_records(peers_store->objects(), pv.self.instance, pv.stale_ms,
                                          core::system_clock().now_micros() / 1000);
    // Tasks this member handed over at its stop are known from their checkpoints.
    runtime::TaskCheckpoints cks(peers_store->objects(), cfg.id);
    if (auto tasks = cks.tasks(); tasks && !tasks->empty())
      pv.task_total = std::max(pv.task_total, tasks->back() + 1);
    auto access = std::make_shared<runtime::PeerAccess>();
    access->view = [pv] { return pv; };
    access->token = cfg.runtime.http_token;
    access->peers_first = true;
    auto shared = std::make_shared<runtime::QueryContext::Shared>(
        *runtime::shared_queries(*ctx.views, access));
    // Stats: the counters of the tasks this member handed over come from where they live now.
    shared->complete_stats = [pv, access, &cks](const std::string& line) {
      return runtime::complete_stats(
          line, pv, *access, [&cks](int32_t task) { return checkpoint_counters(cks, task); });
    };
    ctx.shared = shared;
    return runtime::handle_request(request, ctx);
  }
  return runtime::handle_request(request, ctx);
}

// Writes `text` (with a final newline) to stdout, or to stderr for a failed answer.
void print(const std::string& text, bool ok) {
  std::FILE* to = ok ? stdout : stderr;
  std::fputs(text.c_str(), to);
  if (!text.empty() && text.back() != '\n') std::fputc('\n', to);
}

// The exit code of an answer's status: a request the daemon rejected (unknown view, bad
// params) is a usage error.
int exit_code(const core::Status& st) {
  if (st.is_ok()) return 0;
  const core::StatusCode c = st.code();
  return c == core::StatusCode::kInvalidArgument || c == core::StatusCode::kNotFound ? 2 : 1;
}

// A failed answer as printed: its JSON line with --format json, else "<code>: <message>";
// a line that is no answer at all is named so.
std::string failure(const core::Status& st, const std::string& line, bool json) {
  return json && st.code() != core::StatusCode::kCorruption ? line : st.message();
}

// A view answer in --format.
int print_view(const std::string& line, const std::string& format) {
  core::Status st = runtime::answer_status(line);
  std::string out = line;
  if (st.is_ok() && format != "json") {
    auto answer = runtime::parse_answer(line);
    if (answer)
      out = format == "csv" ? runtime::answer_csv(*answer) : runtime::answer_table(*answer);
    else
      st = answer.error();
  }
  print(st.is_ok() ? out : failure(st, line, format == "json"), st.is_ok());
  return exit_code(st);
}

// A --list, --stats or --metrics answer: its JSON line, but the metrics as their text and
// the list one name a line unless --format json.
int print_other(const QueryArgs& a, const std::string& line) {
  core::Status st = runtime::answer_status(line);
  if (!st.is_ok()) {
    print(failure(st, line, true), false);
    return exit_code(st);
  }
  auto j = nlohmann::json::parse(line, nullptr, false);
  std::string out = line;
  if (a.metrics && j.contains("metrics")) out = j["metrics"].get<std::string>();
  if (a.list && a.format != "json") {
    out.clear();
    if (j.contains("views"))
      for (const auto& v : j["views"]) out += v.get<std::string>() + "\n";
  }
  print(out, true);
  return 0;
}

int run_query(const QueryArgs& a) {
  if (a.format != "json" && a.format != "table" && a.format != "csv") {
    std::fprintf(stderr, "pinstream query: --format must be json, table or csv\n");
    return 2;
  }
  auto request = build_request(a);
  if (!request) return report_error(request.error());
  std::string socket = a.socket;
  std::optional<runtime::PipelineConfig> cfg;
  if (!a.config.empty()) {
    cfg = load_config_or_report(a.config);
    if (!cfg) return 2;
    socket = cfg->runtime.socket_path();
  } else if (socket.empty()) {
    socket = "./pinstream-data/pinstream.sock";
  }
  runtime::QueryClientOptions client;
  client.timeout_ms = a.timeout_ms;
  auto answer = runtime::query_socket(socket, *request, client);
  if (!answer && cfg && answer.error().code() == core::StatusCode::kUnavailable)
    answer = answer_offline(*cfg, *request);
  if (!answer) return report_error(answer.error());
  if (a.stats || a.metrics || a.list) return print_other(a, *answer);
  return print_view(*answer, a.format);
}

}  // namespace

void add_query(CLI::App& app, Exit& exit) {
  auto* cmd =
      app.add_subcommand("query", "Ask the running daemon (or the committed state) for a view");
  static QueryArgs a;
  cmd->add_option("view", a.view, "View name");
  cmd->add_option("--socket", a.socket, "Daemon socket (default ./pinstream-data/pinstream.sock)");
  cmd->add_option("--config", a.config,
                  "Pipeline configuration: its socket, or its state when no daemon runs");
  cmd->add_option("--format", a.format, "json, table or csv (default table)");
  cmd->add_option("--param", a.params, "View parameter K=V (repeatable)");
  cmd->add_flag("--list", a.list, "List the views");
  cmd->add_flag("--stats", a.stats,
                "Per-stream counters, epoch, uptime; a shared pipeline's members");
  cmd->add_flag("--metrics", a.metrics, "Prometheus metrics text");
  cmd->add_option("--timeout-ms", a.timeout_ms,
                  "Give up when the daemon has not answered in full within this (default 10000)")
      ->check(CLI::Range(1, 3'600'000));
  cmd->callback([&exit] { exit.code = run_query(a); });
}

}  // namespace pinstream::cli
