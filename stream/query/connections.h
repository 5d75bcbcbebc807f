// The query server's connections (owned by its serving thread alone): socket clients (JSON
// lines), the loopback metrics port, and HTTP clients (requests, keep-alive, event streams).
// Each one's input is bounded by max_request_bytes plus one read, its output by
// max_output_bytes plus one answer: past that its requests are left unread (the kernel then
// stops its sender) until it reads answers, and a client that never does is closed when idle.
// A request answered from peers (a shared pipeline's merged view) is handed to
// DeferredAnswers: its connection waits (its later requests unread, in order) while the
// others are served, and gets the answer through complete().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "stream/query/deferred.h"
#include "stream/query/server.h"

namespace pinstream::runtime {

class Connections {
 public:
  enum class Kind { kSocket, kMetrics, kHttp };

  Connections(int epoll_fd, const QueryServerOptions& opts, const QueryContext& ctx,
              std::atomic<int64_t>& served, bool http_open, DeferredAnswers* deferred = nullptr)
      : epoll_fd_(epoll_fd),
        opts_(opts),
        ctx_(ctx),
        served_(served),
        http_open_(http_open),
        deferred_(deferred) {}
  ~Connections();

  void accept_all(int listen_fd, Kind kind, int64_t now);
  void on_event(int fd, uint32_t events, int64_t now);
  // Closes idle connections (half-open ones, clients that never read their answers, HTTP
  // requests that take longer than the idle time to arrive) and pings event streams.
  void close_idle(int64_t now);
  // Announces `epoch` on every event stream that has not seen it.
  void publish_epoch(int64_t epoch, int64_t committed_at_micros);
  // Sends the answers DeferredAnswers finished (to connections still open) and serves the
  // requests that waited behind them.
  void complete(std::vector<DeferredAnswers::Done> done, int64_t now);
  size_t event_clients() const { return event_clients_; }
  size_t buffered_bytes() const;

 private:
  struct Conn {
    int fd = -1;
    uint64_t id = 0;  // serial: a deferred answer goes to this connection only
    std::string in, out;
    Kind kind = Kind::kSocket;
    int64_t last_active_ms = 0;
    int64_t request_started_ms = 0;  // HTTP: when the pending request's first byte came
    bool close_after_write = false;
    bool eof = false;      // the client closed its side: answer what is pending, then close
    bool paused = false;   // out is over max_output_bytes: its requests wait unread
    bool events = false;   // an /api/events stream
    bool waiting = false;  // a deferred answer is being computed for it
    int64_t events_epoch = -1;
  };

  void close_conn(int fd);
  void read_input(int fd, Conn& c, int64_t now);
  void answer(Conn& c);
  void answer_lines(Conn& c);
  void answer_http(Conn& c);
  void start_events(Conn& c);
  // Hands `compute` (the request's whole response) to deferred_; when it refuses (too many
  // waiting), answers `busy` at once. The request counts as served either way.
  void hand_over(Conn& c, std::function<std::string()> compute, bool close_after,
                 const std::function<std::string(const std::string&)>& busy);
  void flush(int fd, Conn& c);

  int epoll_fd_;
  const QueryServerOptions& opts_;
  const QueryContext& ctx_;
  std::atomic<int64_t>& served_;
  bool http_open_;
  DeferredAnswers* deferred_;  // null: every answer on the serving thread
  uint64_t next_id_ = 0;
  size_t event_clients_ = 0;
  int64_t last_ping_ms_ = 0;
  std::unordered_map<int, Conn> conns_;
};

}  // namespace pinstream::runtime
