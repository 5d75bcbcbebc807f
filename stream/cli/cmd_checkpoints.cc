// `pinstream checkpoints --config F`: one line per checkpoint, id first.
#include <cstdio>

#include "stream/checkpoints.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"

namespace pinstream::cli {

void add_checkpoints(CLI::App& app, Exit& exit) {
  add_config_command(app, exit, "checkpoints", "List checkpoints: id, epoch, time, positions, table versions",
                     [](const runtime::PipelineConfig& cfg) {
                       for (const auto& m : runtime::list_checkpoints(cfg.runtime.checkpoints_dir()))
                         std::printf("%s\n", m.to_line().c_str());
                       return 0;
                     });
}

}  // namespace pinstream::cli
