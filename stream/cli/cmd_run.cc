// `pinstream run` and `pinstream replay`: the daemon.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/engine.h"

namespace pinstream::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

struct RunArgs {
  std::string config, replay_from;
  bool until_idle = false, available_now = false;
};

int run_engine(const RunArgs& a) {
  auto cfg = load_config_or_report(a.config);
  if (!cfg) return 2;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  runtime::EngineOptions opts;
  opts.until_idle = a.until_idle || a.available_now;
  opts.available_now = a.available_now;
  opts.replay_from = a.replay_from;
  opts.stop = &g_stop;
  opts.progress = ::isatty(STDERR_FILENO) != 0;
  auto engine = runtime::Engine::open(*cfg, opts);
  if (!engine) return report_error(engine.error());
  auto server = start_query_server(*cfg, **engine);
  if (!server) return report_error(server.error());
  core::Status st = (*engine)->run();
  server->reset();
  if (!st.is_ok()) return report_error(st);
  return 0;
}

}  // namespace

void add_bounds(CLI::App* cmd, RunArgs& a) {
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
      if (a.available_now) {
        std::fprintf(stderr, "pinstream: --available-now needs --config (the demo's producer "
                             "never stops); use --until-idle\n");
        exit.code = 2;
        return;
      }
      std::signal(SIGTERM, on_signal);
      std::signal(SIGINT, on_signal);
      exit.code = run_demo(a.until_idle, &g_stop);
      return;
    }
    exit.code = run_engine(a);
  });
}

void add_replay(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("replay", "Restore a checkpoint and process forward from it");
  static RunArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--from-checkpoint", a.replay_from, "Checkpoint id or 'latest'")->required();
  add_bounds(cmd, a);
  cmd->callback([&exit] { exit.code = run_engine(a); });
}

}  // namespace pinstream::cli
