// A minimal client for the query socket: one request line out, one answer line back, within
// a total deadline and a bound on the answer's size (a server that streams without a
// newline cannot hold the client or grow its memory).
#pragma once

#include <cstddef>
#include <string>

#include "stream/core/status.h"

namespace pinstream::runtime {

struct QueryClientOptions {
  int timeout_ms = 10000;                      // Default: 10 s for the whole exchange
  size_t max_answer_bytes = size_t{64} << 20;  // Default: 64 MiB
};

// Unavailable when nothing listens at `socket_path`; IoError on a broken exchange, when the
// deadline passes or when the answer grows past max_answer_bytes.
core::Result<std::string> query_socket(const std::string& socket_path,
                                       const std::string& request_line,
                                       const QueryClientOptions& opts = {});

}  // namespace pinstream::runtime
