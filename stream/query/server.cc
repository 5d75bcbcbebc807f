#include "stream/query/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
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

#include "stream/core/thread_slice.h"
#include "stream/query/connections.h"
#include "stream/query/http.h"

namespace pinstream::runtime {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The socket's address, its directory made. A socket file left by a dead daemon is
// removed; a live one is AlreadyExists (checked before a server exists, whose destructor
// would remove the file).
core::Result<sockaddr_un> socket_address(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path))
    return core::Status::invalid("socket path too long (max " +
                                 std::to_string(sizeof(addr.sun_path) - 1) + " bytes): " + path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (std::filesystem::exists(path, ec)) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(probe);
    if (live) return core::Status::exists("another pinstream daemon is serving " + path);
    ::unlink(path.c_str());
  }
  return addr;
}

}  // namespace

core::Status QueryServer::listen_socket(const sockaddr_un& addr) {
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  mode_t old = ::umask(0177);  // no window where the socket is wider than 0600
  int rc = ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::listen(listen_fd_, 512) != 0)
    return core::Status::io("cannot listen on " + opts_.socket_path + ": " + std::strerror(errno));
  ::chmod(opts_.socket_path.c_str(), opts_.mode);
  return core::Status::ok();
}

core::Status QueryServer::listen_metrics() {
  if (opts_.metrics_port <= 0) return core::Status::ok();
  if (opts_.metrics_port > 65535)
    return core::Status::invalid("metrics_port must be a TCP port (1-65535)");
  metrics_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(metrics_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(opts_.metrics_port));
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(metrics_fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 ||
      ::listen(metrics_fd_, 64) != 0)
    return core::Status::io("cannot listen on 127.0.0.1:" + std::to_string(opts_.metrics_port) +
                            ": " + std::strerror(errno));
  watch(metrics_fd_);
  spdlog::info("Metrics over HTTP. address=127.0.0.1:{}", opts_.metrics_port);
  return core::Status::ok();
}

void QueryServer::watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

core::Result<std::unique_ptr<QueryServer>> QueryServer::start(QueryServerOptions opts,
                                                              QueryContext ctx) {
  const bool socket = !opts.socket_path.empty();  // empty: HTTP only (a peer listener)
  sockaddr_un addr{};
  if (socket) {
    PS_ASSIGN_OR_RETURN(addr, socket_address(opts.socket_path));
  }
  std::unique_ptr<QueryServer> s(new QueryServer(std::move(opts), std::move(ctx)));
  s->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  s->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (socket) {
    PS_RETURN_IF_ERROR(s->listen_socket(addr));
    s->watch(s->listen_fd_);
  }
  s->watch(s->wake_fd_);
  if (s->ctx_.shared) s->deferred_ = std::make_unique<DeferredAnswers>(s->wake_fd_);
  PS_RETURN_IF_ERROR(s->listen_metrics());
  PS_RETURN_IF_ERROR(s->listen_http());
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  if (socket) spdlog::info("Query socket listening. path={}", s->opts_.socket_path);
  return s;
}

core::Status QueryServer::listen_http() {
  if (opts_.http.listen.empty()) return core::Status::ok();
  std::string host;
  int port = 0;
  PS_RETURN_IF_ERROR(http::split_listen_address(opts_.http.listen, host, port));
  http_open_ = http::is_loopback_host(host);
  if (!http_open_ && opts_.http.token.empty())
    return core::Status::invalid("HTTP server on non-loopback address " + opts_.http.listen +
                                 " needs a token: set PINSTREAM_HTTP_TOKEN (runtime.http.token)");
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0 || !res)
    return core::Status::invalid("cannot resolve HTTP address " + opts_.http.listen + ": " +
                                 ::gai_strerror(gai));
  http_fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(http_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = http_fd_ >= 0 && ::bind(http_fd_, res->ai_addr, res->ai_addrlen) == 0 &&
            ::listen(http_fd_, 512) == 0;
  ::freeaddrinfo(res);
  if (!ok)
    return core::Status::io("cannot listen on " + opts_.http.listen + ": " + std::strerror(errno));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(http_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  http_port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  watch(http_fd_);
  spdlog::info("HTTP server listening. address={} port={} auth={}", host, http_port_,
               http_open_ ? "none (loopback)" : "bearer token");
  return core::Status::ok();
}

QueryServer::~QueryServer() {
  stop_.store(true);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  deferred_.reset();  // its workers write to wake_fd_
  for (int fd : {listen_fd_, metrics_fd_, http_fd_, epoll_fd_, wake_fd_})
    if (fd >= 0) ::close(fd);
  if (!opts_.socket_path.empty()) ::unlink(opts_.socket_path.c_str());
}

namespace {
// The loop thread's time slice (EEVDF, core/thread_slice.h): the kernel's smallest, 0.1 ms.
constexpr uint64_t kLoopSliceNs = 100'000;
}  // namespace

void QueryServer::loop() {
  // Requests are answered from precomputed answers in microseconds; what a client waits for
  // under load is this thread getting a core back from the ingest threads.
  core::request_short_slice(kLoopSliceNs);
  Connections conns(epoll_fd_, opts_, ctx_, served_, http_open_, deferred_.get());
  epoll_event events[64];
  int64_t announced = -1;
  while (!stop_.load()) {
    // Event streams learn of a commit within a tenth of a second.
    int timeout = conns.event_clients() > 0 ? 100 : 1000;
    int n = ::epoll_wait(epoll_fd_, events, 64, timeout);
    int64_t now = now_ms();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
        if (deferred_) conns.complete(deferred_->take(), now);
        continue;
      }
      if (fd == listen_fd_)
        conns.accept_all(fd, Connections::Kind::kSocket, now);
      else if (fd == metrics_fd_)
        conns.accept_all(fd, Connections::Kind::kMetrics, now);
      else if (fd == http_fd_)
        conns.accept_all(fd, Connections::Kind::kHttp, now);
      else
        conns.on_event(fd, events[i].events, now);
    }
    if (conns.event_clients() > 0) {
      CommittedView v = ctx_.committed();
      if (v.epoch != announced) conns.publish_epoch(v.epoch, v.meta.committed_at_micros);
      announced = v.epoch;
    } else {
      announced = -1;
    }
    conns.close_idle(now);
    size_t buffered = conns.buffered_bytes();
    buffered_bytes_.store(buffered);
    if (buffered > peak_buffered_bytes_.load()) peak_buffered_bytes_.store(buffered);
  }
}

}  // namespace pinstream::runtime
