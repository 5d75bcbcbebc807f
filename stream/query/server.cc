#include "stream/query/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "stream/query/answer.h"

namespace pinstream::runtime {
namespace {

struct Conn {
  std::string in, out;
  int64_t last_active_ms = 0;
  bool close_after_write = false;
  bool metrics_only = false;  // accepted on the loopback TCP port
  bool eof = false;           // the client closed its side: answer what is pending, then close
  bool paused = false;        // out is over max_output_bytes: its requests wait unread
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// HTTP GET over the same socket: /metrics, /views, /views/<name>, /stats.
std::string http_answer(const std::string& request_line, const QueryContext& ctx) {
  size_t sp = request_line.find(' ', 4);
  std::string path = request_line.substr(4, sp == std::string::npos ? std::string::npos : sp - 4);
  std::string body, type = "application/json";
  int status = 200;
  if (path == "/metrics") {
    body = ctx.metrics ? ctx.metrics() : metrics_text(ctx.committed(), ctx.started_at_micros);
    type = "text/plain; version=0.0.4";
  } else if (path == "/views") {
    body = handle_request(R"({"list":"views"})", ctx);
  } else if (path == "/stats") {
    body = handle_request(R"({"stats":true})", ctx);
  } else if (path.rfind("/views/", 0) == 0 && path.size() > 7 &&
             path.find_first_of("\"\\") == std::string::npos) {
    body = handle_request("{\"view\":\"" + path.substr(7) + "\"}", ctx);
    if (body.rfind("{\"ok\":false", 0) == 0) status = 404;
  } else {
    status = 404;
    body = error_json("not_found", "no such path: " + path);
  }
  body += "\n";
  return "HTTP/1.0 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
         "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string too_large(size_t max_request_bytes) {
  return error_json("request_too_large",
                    "request line exceeds " + std::to_string(max_request_bytes) + " bytes") + "\n";
}

// The connections of the serving thread (owned by it alone). Each one's input is bounded by
// max_request_bytes plus one read, its output by max_output_bytes plus one answer: past that
// its requests are left unread (the kernel then stops its sender) until it reads answers,
// and a client that never does is closed when idle.
class Connections {
 public:
  Connections(int epoll_fd, const QueryServerOptions& opts, const QueryContext& ctx,
              std::atomic<int64_t>& served)
      : epoll_fd_(epoll_fd), opts_(opts), ctx_(ctx), served_(served) {}
  ~Connections() {
    for (auto& [fd, c] : conns_) ::close(fd);
  }

  void accept_all(int listen_fd, bool metrics_only, int64_t now) {
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
      conns_[fd].last_active_ms = now;
      conns_[fd].metrics_only = metrics_only;
    }
  }

  void on_event(int fd, uint32_t events, int64_t now) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    c.last_active_ms = now;
    if (!c.paused && !c.eof && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
      read_input(fd, c);
    answer_lines(c);
    flush(fd, c);
  }

  // Idle connections (half-open ones that never finish a line, clients that never read
  // their answers) are closed.
  void close_idle(int64_t now) {
    for (auto it = conns_.begin(); it != conns_.end();) {
      int fd = it->first;
      bool idle = now - it->second.last_active_ms > opts_.idle_timeout_ms;
      ++it;
      if (idle) close_conn(fd);
    }
  }

  size_t buffered_bytes() const {
    size_t n = 0;
    for (const auto& [fd, c] : conns_) n += c.in.size() + c.out.size();
    return n;
  }

 private:
  void close_conn(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(fd);
  }

  void read_input(int fd, Conn& c) {
    char buf[65536];
    while (c.in.size() <= opts_.max_request_bytes) {
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) c.eof = true;
      break;
    }
  }

  // Answers the complete lines in `in` while the output is under its bound.
  void answer_lines(Conn& c) {
    size_t start = 0, nl;
    while (!c.close_after_write && c.out.size() < opts_.max_output_bytes &&
           (nl = c.in.find('\n', start)) != std::string::npos) {
      std::string line = c.in.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > opts_.max_request_bytes) {
        c.out += too_large(opts_.max_request_bytes);
        c.close_after_write = true;
      } else if (c.metrics_only) {
        // The TCP port serves metrics only; views and stats stay behind the socket's mode.
        bool metrics = line.rfind("GET /metrics ", 0) == 0 || line == "GET /metrics";
        c.out += metrics ? http_answer("GET /metrics", ctx_)
                         : "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c.close_after_write = true;
      } else if (line.rfind("GET ", 0) == 0) {
        c.out += http_answer(line, ctx_);
        c.close_after_write = true;
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

  // Sends what the socket takes, then watches for what the connection needs next; closes it
  // when it is done or broken.
  void flush(int fd, Conn& c) {
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
      if (!c.out.empty() || c.close_after_write || c.in.find('\n') == std::string::npos) break;
      answer_lines(c);  // the socket took every answer: serve the requests that waited
    }
    if (c.out.empty() && (c.close_after_write || c.eof)) {
      close_conn(fd);
      return;
    }
    c.paused = c.out.size() >= opts_.max_output_bytes;
    epoll_event ev{};
    // Level-triggered: EPOLLIN only while this connection's requests are wanted.
    ev.events = (c.paused || c.eof || c.close_after_write) ? 0u : EPOLLIN | EPOLLRDHUP;
    if (!c.out.empty()) ev.events |= EPOLLOUT;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }

  int epoll_fd_;
  const QueryServerOptions& opts_;
  const QueryContext& ctx_;
  std::atomic<int64_t>& served_;
  std::unordered_map<int, Conn> conns_;
};

}  // namespace

core::Result<std::unique_ptr<QueryServer>> QueryServer::start(QueryServerOptions opts, QueryContext ctx) {
  sockaddr_un addr{};
  if (opts.socket_path.size() >= sizeof(addr.sun_path))
    return core::Status::invalid("socket path too long (max " + std::to_string(sizeof(addr.sun_path) - 1) +
                                 " bytes): " + opts.socket_path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, opts.socket_path.c_str(), opts.socket_path.size() + 1);
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(opts.socket_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // A socket file left by a dead daemon is replaced; a live one is not.
  if (std::filesystem::exists(opts.socket_path, ec)) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(probe);
    if (live) return core::Status::exists("another pinstream daemon is serving " + opts.socket_path);
    ::unlink(opts.socket_path.c_str());
  }
  std::unique_ptr<QueryServer> s(new QueryServer(std::move(opts), std::move(ctx)));
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  mode_t old = ::umask(0177);  // no window where the socket is wider than 0600
  int rc = ::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::listen(s->listen_fd_, 512) != 0)
    return core::Status::io("cannot listen on " + s->opts_.socket_path + ": " + std::strerror(errno));
  ::chmod(s->opts_.socket_path.c_str(), s->opts_.mode);
  s->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  s->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s->listen_fd_;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->listen_fd_, &ev);
  ev.data.fd = s->wake_fd_;
  ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->wake_fd_, &ev);
  if (s->opts_.metrics_port > 0) {
    if (s->opts_.metrics_port > 65535) return core::Status::invalid("metrics_port must be a TCP port (1-65535)");
    s->metrics_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(s->metrics_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(s->opts_.metrics_port));
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s->metrics_fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 || ::listen(s->metrics_fd_, 64) != 0)
      return core::Status::io("cannot listen on 127.0.0.1:" + std::to_string(s->opts_.metrics_port) + ": " +
                              std::strerror(errno));
    ev.data.fd = s->metrics_fd_;
    ::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->metrics_fd_, &ev);
    spdlog::info("Metrics over HTTP. address=127.0.0.1:{}", s->opts_.metrics_port);
  }
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  spdlog::info("Query socket listening. path={}", s->opts_.socket_path);
  return s;
}

QueryServer::~QueryServer() {
  stop_.store(true);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, metrics_fd_, epoll_fd_, wake_fd_})
    if (fd >= 0) ::close(fd);
  ::unlink(opts_.socket_path.c_str());
}

void QueryServer::loop() {
  Connections conns(epoll_fd_, opts_, ctx_, served_);
  epoll_event events[64];
  while (!stop_.load()) {
    int n = ::epoll_wait(epoll_fd_, events, 64, 1000);
    int64_t now = now_ms();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) continue;
      if (fd == listen_fd_ || fd == metrics_fd_) conns.accept_all(fd, fd == metrics_fd_, now);
      else conns.on_event(fd, events[i].events, now);
    }
    conns.close_idle(now);
    size_t buffered = conns.buffered_bytes();
    buffered_bytes_.store(buffered);
    if (buffered > peak_buffered_bytes_.load()) peak_buffered_bytes_.store(buffered);
  }
}

}  // namespace pinstream::runtime
