// The HTTP routes (SPEC section 7): the dashboard and its assets, the JSON/CSV API over the
// socket protocol's handler, /metrics, and the Server-Sent Events stream of epochs.
// Pure functions of a request and the query context; the epoll loop does the I/O.
#pragma once

#include <string>

#include "stream/query/handler.h"
#include "stream/query/http.h"

namespace pinstream::runtime {

struct HttpOptions {
  std::string listen;  // host:port; Default: "" (no HTTP server)
  // Required (as `Authorization: Bearer <token>`) on every request unless the listen
  // address is loopback. Default: "".
  std::string token;
  http::Limits limits;
  size_t max_event_clients = 64;  // Default: 64 open /api/events streams, then 503
};

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string extra_headers;  // complete "Name: value\r\n" lines
  bool events = false;        // start a Server-Sent Events stream instead of a response
};

// `require_token`: the server listens on a non-loopback address.
HttpReply route_http(const http::Request& req, const QueryContext& ctx, const std::string& token,
                     bool require_token);

// The event that announces a committed epoch on /api/events.
std::string epoch_event(int64_t epoch, int64_t committed_at_micros);
// The head of a Server-Sent Events response.
std::string events_head();

}  // namespace pinstream::runtime
