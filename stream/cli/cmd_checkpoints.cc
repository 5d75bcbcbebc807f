// `pinstream checkpoints --config F`: one line per checkpoint, id first.
#include <cstdio>

#include "stream/checkpoints.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"

namespace pinstream::cli {

void add_checkpoints(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("checkpoints", "List checkpoints: id, epoch, time, positions, table versions");
  static std::string config;
  cmd->add_option("--config", config, "Pipeline configuration (YAML)")->required();
  cmd->callback([&exit] {
    auto cfg = load_config_or_report(config);
    if (!cfg) {
      exit.code = 2;
      return;
    }
    for (const auto& m : runtime::list_checkpoints(cfg->runtime.checkpoints_dir()))
      std::printf("%s\n", m.to_line().c_str());
    exit.code = 0;
  });
}

}  // namespace pinstream::cli
