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

int run_engine(const std::string& config, bool until_idle, const std::string& replay_from) {
  auto cfg = load_config_or_report(config);
  if (!cfg) return 2;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  runtime::EngineOptions opts;
  opts.until_idle = until_idle;
  opts.replay_from = replay_from;
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

void add_run(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("run", "Run the pipeline daemon (no --config: the embedded demo)");
  static std::string config;
  static bool until_idle = false;
  cmd->add_option("--config", config, "Pipeline configuration (YAML)");
  cmd->add_flag("--until-idle", until_idle, "Stop after a final checkpoint once every source is drained");
  cmd->callback([&exit] {
    if (config.empty()) {
      std::signal(SIGTERM, on_signal);
      std::signal(SIGINT, on_signal);
      exit.code = run_demo(until_idle, &g_stop);
      return;
    }
    exit.code = run_engine(config, until_idle, "");
  });
}

void add_replay(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("replay", "Restore a checkpoint and process forward from it");
  static std::string config, from;
  static bool until_idle = false;
  cmd->add_option("--config", config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--from-checkpoint", from, "Checkpoint id or 'latest'")->required();
  cmd->add_flag("--until-idle", until_idle, "Stop once every source is drained");
  cmd->callback([&exit] { exit.code = run_engine(config, until_idle, from); });
}

}  // namespace pinstream::cli
