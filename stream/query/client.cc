#include "stream/query/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace pinstream::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on fd until the deadline; false when it passed.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // the next send/recv reports the error
  }
}

core::Result<std::string> exchange(int fd, const std::string& path, const std::string& request,
                                   const QueryClientOptions& opts) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(opts.timeout_ms);
  const std::string late = "no complete answer from " + path + " within " +
                           std::to_string(opts.timeout_ms) + " ms; is the daemon overloaded?";
  std::string line = request + "\n";
  size_t off = 0;
  while (off < line.size()) {
    if (!wait_for(fd, POLLOUT, deadline)) return core::Status::io(late);
    ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return core::Status::io("cannot send the request to " + path);
    off += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[65536];
  size_t scanned = 0;
  while (true) {
    size_t nl = answer.find('\n', scanned);
    if (nl != std::string::npos) {
      answer.resize(nl);
      return answer;
    }
    scanned = answer.size();
    if (answer.size() > opts.max_answer_bytes)
      return core::Status::io("the answer from " + path + " exceeds " +
                              std::to_string(opts.max_answer_bytes) + " bytes without a newline");
    if (!wait_for(fd, POLLIN, deadline)) return core::Status::io(late);
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return core::Status::io("connection closed before an answer from " + path);
    answer.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

core::Result<std::string> query_socket(const std::string& path, const std::string& request,
                                       const QueryClientOptions& opts) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path))
    return core::Status::invalid("socket path too long: " + path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::Status::io(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return core::Status::unavailable("no pinstream daemon at " + path + " (" + std::strerror(err) +
                                     ")");
  }
  auto answer = exchange(fd, path, request, opts);
  ::close(fd);
  return answer;
}

}  // namespace pinstream::runtime
