// `pinstream validate --config F`: check a configuration and print the resolved pipeline.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/plan.h"

namespace pinstream::cli {

void add_validate(CLI::App& app, Exit& exit) {
  add_config_command(app, exit, "validate", "Check a configuration and print the resolved pipeline",
                     [](const runtime::PipelineConfig& cfg) {
                       auto plan = runtime::Plan::build(cfg, nullptr);
                       if (!plan) return report_error(plan.error());
                       std::cout << cfg.describe() << (*plan)->describe();
                       return 0;
                     });
}

}  // namespace pinstream::cli
