// `pinstream checkpoints --config F`: one line per checkpoint, id first, from the checkpoint
// store (`runtime.checkpoints`: a local path or s3://bucket/prefix).
#include <cstdio>

#include "stream/checkpoint_store.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/task_guard.h"

namespace pinstream::cli {

void add_checkpoints(CLI::App& app, Exit& exit) {
  add_config_command(
      app, exit, "checkpoints", "List checkpoints: id, epoch, time, positions, table versions",
      [](const runtime::PipelineConfig& cfg) {
        auto store = runtime::open_checkpoint_store(runtime::member_checkpoints_dir(cfg),
                                                    cfg.runtime.data_dir);
        auto all = store ? (*store)->list()
                         : core::Result<std::vector<runtime::CheckpointManifest>>(store.error());
        if (!all)
          return report_error(core::Status(
              all.error().code(), "checkpoints in " + runtime::member_checkpoints_dir(cfg) + ": " +
                                      all.error().message()));
        for (const auto& m : *all) std::printf("%s\n", m.to_line().c_str());
        return 0;
      });
}

}  // namespace pinstream::cli
