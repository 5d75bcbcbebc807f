// A minimal client for the query socket: one request line out, one answer line back.
#pragma once

#include <string>

#include "stream/core/status.h"

namespace pinstream::runtime {

// Unavailable when nothing listens at `socket_path`; IoError on a broken exchange.
core::Result<std::string> query_socket(const std::string& socket_path, const std::string& request_line,
                                       int timeout_ms = 10000);

}  // namespace pinstream::runtime
