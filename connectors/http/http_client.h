// The one place libcurl is used: a small blocking HTTP client that keeps its connection
// alive between calls (one CURL easy handle, reused), optional AWS SigV4 signing with
// libcurl's built-in CURLOPT_AWS_SIGV4 (we never hand-roll signatures), and timeouts.
// Not thread-safe: one client per thread (or a pool of them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/core/status.h"

namespace pinstream::connectors::http {

struct Response {
  long status = 0;
  std::string body;  // capacity exceeds size by at least kBodyPadding (for simdjson)
  // Response headers (names lower-cased), filled only when Request::want_headers.
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header of that lower-case name; empty when absent.
  std::string header(std::string_view name) const;
};

// Extra capacity reserved after a response body so parsers that read past the end may use it.
inline constexpr size_t kBodyPadding = 64;

struct SigV4 {
  std::string provider;  // e.g. "aws:amz:us-east-1:kinesis"
  std::string access_key, secret_key, session_token;
};

// One request of any method. The body is sent for every method but GET, HEAD and DELETE
// (with Content-Length); HEAD asks for no body.
struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // must outlive send()
  // Instead of `body`: `body_size` bytes read in pieces (e.g. from a file, never whole in
  // memory). Called as read(offset, buffer, capacity) and returns the bytes it put in
  // `buffer` (> 0 while offset < body_size); an error aborts the request and is send()'s
  // answer. Offsets restart at 0 when libcurl rewinds.
  std::function<core::Result<size_t>(uint64_t, char*, size_t)> body_reader;
  uint64_t body_size = 0;
  long timeout_ms = 30000;
  long connect_timeout_ms = 5000;
  const SigV4* sign = nullptr;
  bool want_headers = false;
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // POSTs `body` to `url`. Unavailable on a connection failure or timeout (retryable); the
  // HTTP status is in the response otherwise, whatever it is.
  core::Result<Response> post(const std::string& url, const std::vector<std::string>& headers,
                              const std::string& body, long timeout_ms = 30000,
                              const SigV4* sign = nullptr);
  // Same, reusing `out` (its body buffer keeps its capacity between calls).
  core::Status post_into(const std::string& url, const std::vector<std::string>& headers,
                         const std::string& body, Response& out, long timeout_ms = 30000,
                         const SigV4* sign = nullptr);
  // Any method. Unavailable on a connection failure, reset or timeout (retryable), with
  // libcurl's reason; otherwise OK with the HTTP status in `out`, whatever it is.
  core::Status send(const Request& request, Response& out);

 private:
  void* curl_;
};

}  // namespace pinstream::connectors::http
