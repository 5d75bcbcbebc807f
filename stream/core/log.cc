#include "stream/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace pinstream::core {

void setup_logging(LogFormat format, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("pinstream");
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

std::string redact(std::string_view key, std::string_view value) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"password", "secret", "token", "sasl.password", "key.password",
                           "access_key", "credential"}) {
    if (k.find(word) != std::string::npos) return "***";
  }
  return std::string(value);
}

}  // namespace pinstream::core
