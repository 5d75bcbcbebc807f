#include "stream/cli/common.h"

#include <cstdio>

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

}  // namespace pinstream::cli
