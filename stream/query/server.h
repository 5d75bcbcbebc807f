// The query server (SPEC section 7): a Unix socket (mode 0600 by default) served by one
// epoll thread. One JSON request per line, one JSON answer line back; lines are bounded
// (max_request_bytes), so are the answers waiting for a client to read them
// (max_output_bytes), idle connections are closed, and a bad client only ever gets an
// error answer. `GET /metrics` and `GET /views/<name>` over HTTP/1.0 also work, so
// `curl --unix-socket` can be used. The same thread serves the HTTP listener (http.listen:
// dashboard, JSON API, events; see http_api.h) with the same answer cache. A member of a
// shared pipeline answers its merged views on a few threads of their own (deferred.h): a
// slow or hung peer delays only the clients waiting for a merged answer.
#pragma once

#include <sys/un.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "stream/core/status.h"
#include "stream/query/deferred.h"
#include "stream/query/handler.h"
#include "stream/query/http_api.h"

namespace pinstream::runtime {

struct QueryServerOptions {
  std::string socket_path;  // empty: no socket (an HTTP-only server, e.g. for peer requests)
  uint32_t mode = 0600;     // Default: owner only
  size_t max_request_bytes = 1 << 20;  // Default: 1 MiB
  // Answers buffered for a client that does not read them: past this, its further
  // requests wait unread (and it is closed once idle_timeout_ms passes without progress).
  size_t max_output_bytes = 1 << 20;  // Default: 1 MiB
  int idle_timeout_ms = 30000;        // Default: 30 s
  size_t max_connections = 1024;      // Default: 1024
  // > 0: also serve GET /metrics (only that: the socket's 0600 guards the rest) as HTTP on
  // 127.0.0.1:<port>, for a Prometheus scraper. 0: no TCP listener.
  int metrics_port = 0;  // Default: 0
  HttpOptions http;      // Default: no HTTP server
};

class QueryServer {
 public:
  // Binds the socket (replacing a stale one; AlreadyExists when a live daemon answers on
  // it) and starts the serving thread.
  static core::Result<std::unique_ptr<QueryServer>> start(QueryServerOptions opts,
                                                          QueryContext ctx);
  ~QueryServer();  // stops the thread, closes connections, removes the socket file

  int64_t requests_served() const { return served_.load(); }
  // Bytes of requests and answers held for all connections now / at most since start
  // (each connection holds at most max_request_bytes + 64 KiB in and max_output_bytes +
  // one answer out).
  size_t buffered_bytes() const { return buffered_bytes_.load(); }
  size_t peak_buffered_bytes() const { return peak_buffered_bytes_.load(); }
  // The HTTP listener's port (useful when http.listen asked for port 0), or 0.
  int http_port() const { return http_port_; }

 private:
  QueryServer(QueryServerOptions opts, QueryContext ctx)
      : opts_(std::move(opts)), ctx_(std::move(ctx)) {}
  // Each binds its listener; listen_metrics and listen_http add theirs to the epoll set.
  core::Status listen_socket(const sockaddr_un& addr);
  core::Status listen_metrics();
  core::Status listen_http();
  void watch(int fd);  // epoll: readable
  void loop();

  QueryServerOptions opts_;
  QueryContext ctx_;
  int listen_fd_ = -1;
  int metrics_fd_ = -1;  // loopback TCP listener for GET /metrics, or -1
  int http_fd_ = -1;     // the HTTP server's listener, or -1
  int http_port_ = 0;
  bool http_open_ = false;  // loopback: no token needed
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> served_{0};
  std::atomic<size_t> buffered_bytes_{0};
  std::atomic<size_t> peak_buffered_bytes_{0};
  std::unique_ptr<DeferredAnswers> deferred_;  // merged answers (ctx_.shared), else null
  std::thread thread_;
};

}  // namespace pinstream::runtime
