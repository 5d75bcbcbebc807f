#include "stream/cli/common.h"

#include <cstdio>

#include "stream/cli/commands.h"

namespace pinstream::cli {

std::optional<runtime::PipelineConfig> load_config_or_report(const std::string& path) {
  auto cfg = runtime::load_pipeline_config(path);
  if (!cfg) {
    std::fprintf(stderr, "pinstream: %s\n", cfg.error().message().c_str());
    return std::nullopt;
  }
  return std::move(*cfg);
}

int report_error(const core::Status& st) {
  std::fprintf(stderr, "pinstream: %s\n", st.message().c_str());
  switch (st.code()) {
    case core::StatusCode::kInvalidArgument:
    case core::StatusCode::kAlreadyExists:
    case core::StatusCode::kNotFound:
      return 2;
    default:
      return 1;
  }
}

void add_config_command(CLI::App& app, Exit& exit, const char* name, const char* help,
                        std::function<int(const runtime::PipelineConfig&)> body) {
  auto* cmd = app.add_subcommand(name, help);
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "Pipeline configuration (YAML)")->required();
  cmd->callback([&exit, config, body = std::move(body)] {
    auto cfg = load_config_or_report(*config);
    exit.code = cfg ? body(*cfg) : 2;
  });
}

}  // namespace pinstream::cli
