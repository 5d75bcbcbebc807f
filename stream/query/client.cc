#include "stream/query/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pinstream::runtime {

core::Result<std::string> query_socket(const std::string& path, const std::string& request, int timeout_ms) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return core::Status::invalid("socket path too long: " + path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::Status::io(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return core::Status::unavailable("no pinstream daemon at " + path + " (" + std::strerror(err) + ")");
  }
  std::string line = request + "\n";
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return core::Status::io("cannot send the request to " + path);
    }
    off += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[65536];
  while (answer.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      ::close(fd);
      return core::Status::io("no answer from " + path + " within " + std::to_string(timeout_ms) + " ms");
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t nl = answer.find('\n');
  if (nl == std::string::npos) return core::Status::io("connection closed before an answer from " + path);
  answer.resize(nl);
  return answer;
}

}  // namespace pinstream::runtime
