// `pinstream validate --config F`: check a configuration and print the resolved pipeline.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/plan.h"

namespace pinstream::cli {

void add_validate(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("validate", "Check a configuration and print the resolved pipeline");
  static std::string config;
  cmd->add_option("--config", config, "Pipeline configuration (YAML)")->required();
  cmd->callback([&exit] {
    auto cfg = load_config_or_report(config);
    if (!cfg) {
      exit.code = 2;
      return;
    }
    auto plan = runtime::Plan::build(*cfg, nullptr);
    if (!plan) {
      exit.code = report_error(plan.error());
      return;
    }
    std::cout << cfg->describe() << (*plan)->describe();
    exit.code = 0;
  });
}

}  // namespace pinstream::cli
