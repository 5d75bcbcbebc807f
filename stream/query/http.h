// HTTP/1.1 for the query server's TCP listener (SPEC section 7): an incremental request
// parser with hard bounds (request line and headers, body), responses, URL decoding, the
// bearer-token check and the listen address's loopback test. No I/O here: the epoll loop
// (server.cc) feeds bytes in and writes the responses out.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "stream/core/status.h"

namespace pinstream::runtime::http {

struct Limits {
  size_t max_head_bytes = 16 * 1024;  // Default: 16 KiB (request line + headers), else 431
  size_t max_body_bytes = 64 * 1024;  // Default: 64 KiB (GET needs none), else 413
};

struct Request {
  std::string method, target, path;            // path: target before '?', percent-decoded
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 default; HTTP/1.0 or "close": false
};

enum class Parse { kNeedMore, kDone, kError };

// Parses one request from the front of `buf`. kDone: `req` is filled and `consumed` bytes
// belong to it. kError: `status` is the answer to send before closing (400, 413, 431, 501,
// 505). kNeedMore: the request is not complete yet (and within bounds).
Parse parse_request(std::string_view buf, const Limits& limits, Request& req, size_t& consumed,
                    int& status);

// A complete response with Content-Length (and Connection: close when !keep_alive).
std::string response(int status, std::string_view content_type, std::string_view body,
                     bool keep_alive, std::string_view extra_headers = "");
const char* reason_phrase(int status);

// %XX and '+' decoding; false on a malformed escape.
bool url_decode(std::string_view in, std::string& out, bool plus_is_space);

// Equal strings compared in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// "host:port" or "[v6]:port" -> host and port; InvalidArgument naming what is wrong.
core::Status split_listen_address(const std::string& listen, std::string& host, int& port);
// Whether every address `host` names is a loopback address (127/8, ::1, "localhost").
// Names are resolved; an unresolvable name is not loopback.
bool is_loopback_host(const std::string& host);

}  // namespace pinstream::runtime::http
