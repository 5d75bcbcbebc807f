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
  std::unordered_map<int, Conn> conns;
  auto close_conn = [&](int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  auto flush = [&](int fd, Conn& c) -> bool {  // false: connection closed
    while (!c.out.empty()) {
      ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        close_conn(fd);
        return false;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    if (c.out.empty() && c.close_after_write) {
      close_conn(fd);
      return false;
    }
    return true;
  };
  epoll_event events[64];
  char buf[65536];
  while (!stop_.load()) {
    int n = ::epoll_wait(epoll_fd_, events, 64, 1000);
    int64_t now = now_ms();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) continue;
      if (fd == listen_fd_ || fd == metrics_fd_) {
        while (true) {
          int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          if (conns.size() >= opts_.max_connections) {
            ::close(c);
            continue;
          }
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.fd = c;
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c, &ev);
          conns[c].last_active_ms = now;
          conns[c].metrics_only = fd == metrics_fd_;
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      c.last_active_ms = now;
      if (events[i].events & EPOLLOUT) {
        if (!flush(fd, c)) continue;
      }
      if (!(events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      bool eof = false;
      while (true) {
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          if (c.in.size() > opts_.max_request_bytes + 1) break;
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof = true;
        break;
      }
      size_t start = 0, nl;
      while (!c.close_after_write && (nl = c.in.find('\n', start)) != std::string::npos) {
        std::string line = c.in.substr(start, nl - start);
        start = nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > opts_.max_request_bytes) {
          c.out += error_json("request_too_large", "request line exceeds " + std::to_string(opts_.max_request_bytes) + " bytes") + "\n";
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
      if (!c.close_after_write && c.in.size() > opts_.max_request_bytes) {
        c.out += error_json("request_too_large", "request line exceeds " + std::to_string(opts_.max_request_bytes) + " bytes") + "\n";
        c.close_after_write = true;
        c.in.clear();
      }
      if (!flush(fd, c)) continue;
      if (eof && c.out.empty()) close_conn(fd);
    }
    // Idle connections (including half-open ones that never finish a line) are closed.
    for (auto it = conns.begin(); it != conns.end();) {
      if (now - it->second.last_active_ms > opts_.idle_timeout_ms) {
        int fd = it->first;
        ++it;
        close_conn(fd);
      } else {
        ++it;
      }
    }
  }
  for (auto& [fd, c] : conns) ::close(fd);
}

}  // namespace pinstream::runtime
