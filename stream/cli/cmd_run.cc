// `pinstream run` and `pinstream replay`: the daemon.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "stream/checkpoints.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/cli/run_summary.h"
#include "stream/cli/service_notify.h"
#include "stream/engine.h"
#include "stream/redrive_merge.h"
#include "stream/task_guard.h"

namespace pinstream::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_restart{false};

void on_signal(int) { g_stop.store(true); }
void on_hangup(int) {
  g_restart.store(true);
  g_stop.store(true);
}

// SIGHUP restarts the daemon in place: it stops as for SIGTERM (final epoch, checkpoint,
// data directory released), then executes itself again with the same arguments under the
// same pid (systemd keeps tracking it), reading the configuration anew. Returns only when
// that fails.
int restart_in_place() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t at = 0; at < all.size();) {
    size_t end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  spdlog::info("Restarting on SIGHUP. command={}", args.empty() ? "" : args[0]);
  ::execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "pinstream: cannot restart on SIGHUP (%s); start it again\n",
               std::strerror(errno));
  return 1;
}

struct RunArgs {
  std::string config, replay_from, summary;
  bool until_idle = false, available_now = false;
};

// A configuration or usage problem exits 2, a refusal because the state and the tables
// disagree 3 (an operator must repair: the message names the command), anything else 1.
int fail(const core::Status& st, std::string& error) {
  error = st.message();
  int code = report_error(st);
  if (st.code() == core::StatusCode::kNotImplemented) return 2;  // e.g. --available-now
  return st.code() == core::StatusCode::kCorruption ? 3 : code;
}

int run_engine(const RunArgs& a, RunSummary& summary, std::string& error) {
  auto cfg = runtime::load_pipeline_config(a.config);
  if (!cfg) {
    fail(cfg.error(), error);
    return 2;  // whatever the kind: the configuration could not be loaded
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const bool daemon = !a.until_idle && !a.available_now && a.replay_from.empty();
  std::signal(SIGHUP, daemon ? on_hangup : on_signal);  // bounded runs and replays just stop
  runtime::EngineOptions opts;
  opts.until_idle = a.until_idle || a.available_now;
  opts.available_now = a.available_now;
  opts.replay_from = a.replay_from;
  opts.stop = &g_stop;
  opts.progress = ::isatty(STDERR_FILENO) != 0;
  runtime::RedriveMerge* redrive = nullptr;  // the daemon serves `pinstream redrive`
  if (daemon)
    opts.wrap_source = [&redrive](std::unique_ptr<connectors::Source> source) {
      auto merge = std::make_unique<runtime::RedriveMerge>(std::move(source));
      redrive = merge.get();
      return std::unique_ptr<connectors::Source>(std::move(merge));
    };
  auto engine = runtime::Engine::open(*cfg, opts);
  if (!engine) return fail(engine.error(), error);
  summary.at_start((*engine)->committed().meta, (*engine)->table_versions(),
                   (*engine)->end_positions());
  auto server = start_query_server(*cfg, **engine, redrive);
  if (!server) return fail(server.error(), error);
  ServiceNotifier service;
  service.ready();
  core::Status st = (*engine)->run();
  service.stopping();
  server->reset();
  summary.at_end((*engine)->committed().meta, (*engine)->table_versions());
  if (auto kept = runtime::find_checkpoint(runtime::member_checkpoints_dir(*cfg), "latest"))
    summary.checkpoint(kept->id, kept->epoch);
  if (!st.is_ok()) return fail(st, error);
  return 0;
}

int run_with_summary(const RunArgs& a) {
  const char* mode = a.available_now ? "available-now" : a.until_idle ? "until-idle" : "daemon";
  RunSummary summary(a.replay_from.empty() ? "run" : "replay", mode);
  std::string error;
  int code = run_engine(a, summary, error);
  if (!a.summary.empty()) {
    core::Status st = summary.write(a.summary, code, error);
    if (!st.is_ok()) {
      std::fprintf(stderr, "pinstream: %s\n", st.message().c_str());
      if (code == 0) code = 1;
    }
  }
  return code == 0 && g_restart.load() ? restart_in_place() : code;
}

}  // namespace

void add_bounds(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("--summary", a.summary,
                  "Write a JSON summary of the run to FILE at its end ('-': stdout)");
  auto* idle = cmd->add_flag("--until-idle", a.until_idle,
                             "Stop after a final checkpoint once every source is drained");
  cmd->add_flag("--available-now", a.available_now,
                "Process what the sources hold at start (their ends are fixed then), then stop")
      ->excludes(idle);
}

void add_run(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("run", "Run the pipeline daemon (no --config: the embedded demo)");
  static RunArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (YAML)");
  add_bounds(cmd, a);
  cmd->callback([&exit] {
    if (a.config.empty()) {
      if (a.available_now || !a.summary.empty()) {
        std::fprintf(stderr,
                     "pinstream: --available-now and --summary need --config (the "
                     "embedded demo has neither); use --until-idle\n");
        exit.code = 2;
        return;
      }
      std::signal(SIGTERM, on_signal);
      std::signal(SIGINT, on_signal);
      exit.code = run_demo(a.until_idle, &g_stop);
      return;
    }
    exit.code = run_with_summary(a);
  });
}

void add_replay(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("replay", "Restore a checkpoint and process forward from it");
  static RunArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--from-checkpoint", a.replay_from, "Checkpoint id or 'latest'")->required();
  add_bounds(cmd, a);
  cmd->callback([&exit] { exit.code = run_with_summary(a); });
}

}  // namespace pinstream::cli
