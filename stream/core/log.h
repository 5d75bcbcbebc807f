// Logging setup: spdlog, text by default or one JSON object per line. Log lines are one
// sentence followed by key=value fields; secrets never go into them (see redact()).
#pragma once

#include <string>
#include <string_view>

namespace pinstream::core {

enum class LogFormat { kText, kJson };

// Configures the default logger on stderr. `level` is spdlog's name ("info", "debug", ...).
void setup_logging(LogFormat format, std::string_view level);

// "***" for any value whose key names a secret (password, secret, token, key ...), else the
// value itself; used when printing configurations.
std::string redact(std::string_view key, std::string_view value);

}  // namespace pinstream::core
