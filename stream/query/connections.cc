#include "stream/query/connections.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "stream/query/answer.h"

namespace pinstream::runtime {
namespace {

constexpr int64_t kEventPingMs = 15000;  // keeps proxies from closing a quiet event stream
constexpr int64_t kMaxCatchUp = 64;      // epochs announced at once to one event stream

// HTTP GET over the socket itself (HTTP/1.0, one request): /metrics, /views, /views/<name>,
// /stats, so that `curl --unix-socket` works.
std::string socket_http_answer(const std::string& request_line, const QueryContext& ctx) {
  size_t sp = request_line.find(' ', 4);
  std::string path = request_line.substr(4, sp == std::string::npos ? std::string::npos : sp - 4);
  std::string body, type = "application/json";
  int status = 200;
  if (path == "/metrics") {
    body = ctx.metrics ? ctx.metrics() : metrics_text(ctx.committed(), ctx.started_at_micros);
    type = "text/plain; version=0.0.4";
  } else if (path == "/views") {
    body = views_json(ctx);
  } else if (path == "/stats") {
    body = stats_json(ctx);
  } else if (path.rfind("/views/", 0) == 0 && path.size() > 7 &&
             path.find_first_of("\"\\") == std::string::npos) {
    auto line = view_json(ViewRequest{path.substr(7), {}}, ctx);
    if (line) {
      body = std::move(line).value();
    } else {
      status = 404;
      body = error_json(view_error_code(line.error()), line.error().message());
    }
  } else {
    status = 404;
    body = error_json(ErrorCode::kNotFound, "no such path: " + path);
  }
  body += "\n";
  return "HTTP/1.0 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
         "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string too_large(size_t max_request_bytes) {
  return error_json(ErrorCode::kRequestTooLarge,
                    "request line exceeds " + std::to_string(max_request_bytes) + " bytes") +
         "\n";
}

std::string http_error(int status, const std::string& message) {
  return http::response(status, "application/json",
                        error_json(ErrorCode::kBadRequest, message) + "\n", false);
}

// `rep` as the bytes sent for `req` (a HEAD gets the same head, no body).
std::string http_bytes(const http::Request& req, const HttpReply& rep) {
  std::string resp =
      http::response(rep.status, rep.content_type, rep.body, req.keep_alive, rep.extra_headers);
  if (req.method == "HEAD") resp.resize(resp.size() - rep.body.size());
  return resp;
}

constexpr const char* kBusyMessage = "too many merged answers waiting for peers; retry shortly";

}  // namespace

Connections::~Connections() {
  for (auto& [fd, c] : conns_) ::close(fd);
}

void Connections::accept_all(int listen_fd, Kind kind, int64_t now) {
  while (true) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;
    if (conns_.size() >= opts_.max_connections) {
      ::close(fd);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    Conn& c = conns_[fd];
    c.fd = fd;
    c.id = ++next_id_;
    c.last_active_ms = now;
    c.kind = kind;
  }
}

void Connections::on_event(int fd, uint32_t events, int64_t now) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  c.last_active_ms = now;
  if (c.waiting && (events & (EPOLLHUP | EPOLLERR))) {
    close_conn(fd);  // gone: its deferred answer is dropped when it comes
    return;
  }
  if (!c.paused && !c.eof && !c.waiting && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    read_input(fd, c, now);
  if (c.events) {
    c.in.clear();  // an event stream's client has nothing more to say
    if (c.eof) {
      close_conn(fd);
      return;
    }
  }
  answer(c);
  flush(fd, c);
}

void Connections::close_idle(int64_t now) {
  bool ping = now - last_ping_ms_ >= kEventPingMs;
  if (ping) last_ping_ms_ = now;
  for (auto it = conns_.begin(); it != conns_.end();) {
    int fd = it->first;
    Conn& c = it->second;
    ++it;
    if (c.waiting) continue;  // its answer comes within the peers' deadline
    bool idle = now - c.last_active_ms > opts_.idle_timeout_ms;
    if (c.events) {
      // A stream is idle only while its client leaves our events unread.
      if (c.out.empty()) c.last_active_ms = now;
      if (idle && !c.out.empty())
        close_conn(fd);
      else if (ping && c.out.size() < opts_.max_output_bytes)
        c.out += ": ping\n\n", flush(fd, c);
      continue;
    }
    // An HTTP request that trickles in (slowloris) gets the idle time in total, not per byte.
    bool slow = c.kind == Kind::kHttp && !c.in.empty() && !c.close_after_write && !c.paused &&
                now - c.request_started_ms > opts_.idle_timeout_ms;
    if (slow) {
      std::string r = http_error(
          408, "request not complete within " + std::to_string(opts_.idle_timeout_ms) + " ms");
      (void)!::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (idle || slow) close_conn(fd);
  }
}

void Connections::publish_epoch(int64_t epoch, int64_t committed_at_micros) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    int fd = it->first;
    Conn& c = it->second;
    ++it;
    if (!c.events || c.events_epoch == epoch) continue;
    // A client that does not read waits with what it has: its output stays bounded.
    if (c.out.size() >= opts_.max_output_bytes) continue;
    // Epochs that committed between two looks are announced too (without a commit time:
    // only the newest snapshot has one), at most kMaxCatchUp of them; after a replay that
    // went back, the stream goes on from the replayed epoch.
    int64_t from =
        c.events_epoch < epoch ? std::max(c.events_epoch + 1, epoch - kMaxCatchUp + 1) : epoch;
    for (int64_t e = from; e < epoch; ++e) c.out += epoch_event(e, 0);
    c.out += epoch_event(epoch, committed_at_micros);
    c.events_epoch = epoch;
    flush(fd, c);
  }
}

size_t Connections::buffered_bytes() const {
  size_t n = 0;
  for (const auto& [fd, c] : conns_) n += c.in.size() + c.out.size();
  return n;
}

void Connections::close_conn(int fd) {
  auto it = conns_.find(fd);
  if (it != conns_.end() && it->second.events) --event_clients_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  conns_.erase(fd);
}

void Connections::read_input(int fd, Conn& c, int64_t now) {
  char buf[65536];
  while (c.in.size() <= opts_.max_request_bytes) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r > 0) {
      if (c.in.empty()) c.request_started_ms = now;
      c.in.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) c.eof = true;
    break;
  }
}

void Connections::complete(std::vector<DeferredAnswers::Done> done, int64_t now) {
  for (auto& d : done) {
    auto it = conns_.find(d.fd);
    if (it == conns_.end() || it->second.id != d.conn) continue;  // closed meanwhile
    Conn& c = it->second;
    c.waiting = false;
    c.last_active_ms = c.request_started_ms = now;
    c.out += d.out;
    if (d.close_after) c.close_after_write = true;
    answer(c);
    flush(d.fd, c);
  }
}

void Connections::hand_over(Conn& c, std::function<std::string()> compute, bool close_after,
                            const std::function<std::string(const std::string&)>& busy) {
  if (deferred_->submit(c.fd, c.id, close_after, std::move(compute))) {
    c.waiting = true;
    return;
  }
  c.out += busy(kBusyMessage);
  if (close_after) c.close_after_write = true;
}

void Connections::answer(Conn& c) {
  if (c.waiting) return;
  if (c.kind == Kind::kHttp)
    answer_http(c);
  else
    answer_lines(c);
}

// Answers the complete lines in `in` while the output is under its bound.
void Connections::answer_lines(Conn& c) {
  size_t start = 0, nl;
  while (!c.close_after_write && !c.waiting && c.out.size() < opts_.max_output_bytes &&
         (nl = c.in.find('\n', start)) != std::string::npos) {
    std::string line = c.in.substr(start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > opts_.max_request_bytes) {
      c.out += too_large(opts_.max_request_bytes);
      c.close_after_write = true;
    } else if (c.kind == Kind::kMetrics) {
      // The metrics port serves metrics only; views and stats stay behind the socket's mode.
      bool metrics = line.rfind("GET /metrics ", 0) == 0 || line == "GET /metrics";
      c.out += metrics ? socket_http_answer("GET /metrics", ctx_)
                       : "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      c.close_after_write = true;
    } else if (line.rfind("GET ", 0) == 0) {
      if (deferred_ && ctx_.shared && line.rfind("GET /views/", 0) == 0) {
        hand_over(
            c, [line, &ctx = ctx_] { return socket_http_answer(line, ctx); }, true,
            [](const std::string& m) { return http_error(503, m); });
      } else {
        c.out += socket_http_answer(line, ctx_);
        c.close_after_write = true;
      }
    } else if (deferred_ && answers_from_peers(line, ctx_)) {
      hand_over(
          c, [line, &ctx = ctx_] { return handle_request(line, ctx) + "\n"; }, false,
          [](const std::string& m) { return error_json(ErrorCode::kBusy, m) + "\n"; });
    } else if (!line.empty()) {
      c.out += handle_request(line, ctx_) + "\n";
    }
    served_.fetch_add(1);
  }
  c.in.erase(0, start);
  if (!c.close_after_write && c.in.size() > opts_.max_request_bytes &&
      c.in.find('\n') == std::string::npos) {
    c.out += too_large(opts_.max_request_bytes);
    c.close_after_write = true;
    c.in.clear();
  }
}

// Answers the complete HTTP requests in `in` (pipelined ones in order) while the output is
// under its bound; a malformed or oversized request is answered and the connection closed.
void Connections::answer_http(Conn& c) {
  while (!c.close_after_write && !c.events && !c.waiting && c.out.size() < opts_.max_output_bytes &&
         !c.in.empty()) {
    http::Request req;
    size_t consumed = 0;
    int status = 0;
    http::Parse p = http::parse_request(c.in, opts_.http.limits, req, consumed, status);
    if (p == http::Parse::kNeedMore) {
      if (c.eof) c.in.clear();
      break;
    }
    served_.fetch_add(1);
    if (p == http::Parse::kError) {
      c.out += http_error(status, "malformed or oversized request");
      c.close_after_write = true;
      c.in.clear();
      break;
    }
    c.in.erase(0, consumed);
    c.request_started_ms = c.last_active_ms;
    if (deferred_ && ctx_.shared && req.path.rfind("/api/views/", 0) == 0) {
      hand_over(
          c,
          [req, &ctx = ctx_, token = opts_.http.token, need = !http_open_] {
            return http_bytes(req, route_http(req, ctx, token, need));
          },
          !req.keep_alive,
          [&req](const std::string& m) {
            return http::response(503, "application/json", error_json(ErrorCode::kBusy, m) + "\n",
                                  req.keep_alive, "Retry-After: 1\r\n");
          });
      break;
    }
    HttpReply rep = route_http(req, ctx_, opts_.http.token, !http_open_);
    if (rep.events) {
      start_events(c);
      break;
    }
    c.out += http_bytes(req, rep);
    if (!req.keep_alive) c.close_after_write = true;
  }
}

void Connections::start_events(Conn& c) {
  c.in.clear();
  if (event_clients_ >= opts_.http.max_event_clients) {
    c.out += http::response(
        503, "application/json",
        error_json(ErrorCode::kBusy, "too many event streams open (max " +
                                         std::to_string(opts_.http.max_event_clients) + ")") +
            "\n",
        false, "Retry-After: 5\r\n");
    c.close_after_write = true;
    return;
  }
  ++event_clients_;
  c.events = true;
  c.out += events_head();
  CommittedView v = ctx_.committed();
  c.events_epoch = v.epoch;
  c.out += epoch_event(v.epoch, v.meta.committed_at_micros);
}

// Sends what the socket takes, then watches for what the connection needs next; closes it
// when it is done or broken.
void Connections::flush(int fd, Conn& c) {
  while (true) {
    while (!c.out.empty()) {
      ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        close_conn(fd);
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    if (!c.out.empty() || c.close_after_write || c.events || c.waiting || c.in.empty()) break;
    size_t before = c.in.size();
    answer(c);  // the socket took every answer: serve the requests that waited
    if (c.in.size() == before && c.out.empty()) break;
  }
  if (c.out.empty() && !c.waiting && (c.close_after_write || (c.eof && !c.events))) {
    close_conn(fd);
    return;
  }
  c.paused = c.out.size() >= opts_.max_output_bytes;
  epoll_event ev{};
  // Level-triggered: EPOLLIN only while this connection's requests are wanted.
  ev.events = (c.paused || c.eof || c.close_after_write || c.waiting) ? 0u : EPOLLIN | EPOLLRDHUP;
  if (!c.out.empty()) ev.events |= EPOLLOUT;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

}  // namespace pinstream::runtime
