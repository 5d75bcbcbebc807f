// One function per subcommand: each declares its options on `app` and, when chosen, runs
// and stores the process exit code (0 ok, 1 runtime failure, 2 usage/config error).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "stream/pipeline_config.h"

namespace pinstream::cli {

struct Exit {
  int code = 0;
};

void add_run(CLI::App& app, Exit& exit);
void add_replay(CLI::App& app, Exit& exit);
void add_query(CLI::App& app, Exit& exit);
void add_emulate(CLI::App& app, Exit& exit);
void add_broker(CLI::App& app, Exit& exit);
void add_checkpoints(CLI::App& app, Exit& exit);
void add_validate(CLI::App& app, Exit& exit);
void add_verify(CLI::App& app, Exit& exit);
void add_redrive(CLI::App& app, Exit& exit);
void add_optimize(CLI::App& app, Exit& exit);
void add_vacuum(CLI::App& app, Exit& exit);

// A subcommand whose only option is a required --config: loads it (exit 2 on a config
// error) and stores `body`'s result as the exit code.
void add_config_command(CLI::App& app, Exit& exit, const char* name, const char* help,
                        std::function<int(const runtime::PipelineConfig&)> body);

}  // namespace pinstream::cli
