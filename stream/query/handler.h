// The query protocol's request handler (SPEC section 7), shared by the socket server and
// the offline `pinstream query --config`: one JSON request line in, one JSON answer line out.
// Requests: {"view":NAME,"params":{...}}, {"list":"views"}, {"stats":true}, {"metrics":true}.
// Never throws; every malformed request gets an error answer.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "stream/engine.h"

namespace pinstream::runtime {

struct QueryContext {
  std::function<CommittedView()> committed;  // snapshot of the last committed epoch
  const state::Views* views = nullptr;
  int64_t started_at_micros = 0;
  std::function<std::string()> metrics;      // Prometheus text; may be empty
};

std::string handle_request(std::string_view line, const QueryContext& ctx);

// Prometheus text for the counters of a committed epoch.
std::string metrics_text(const CommittedView& view, int64_t started_at_micros);

}  // namespace pinstream::runtime
