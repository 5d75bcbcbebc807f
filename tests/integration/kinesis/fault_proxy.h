// A fault-injecting loopback HTTP proxy for the Kinesis tests: one thread, one request per
// connection. For each request it asks `decide(action, n)` (n = 1-based count of that
// X-Amz-Target action); a returned Fault is answered directly, anything else is forwarded
// to the emulator on `upstream_port`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace pinstream::testing {

struct Fault {
  int status;        // 400, 500, ...
  std::string type;  // the JSON __type, e.g. ProvisionedThroughputExceededException
};

class FaultProxy {
 public:
  using Decide = std::function<std::optional<Fault>(const std::string& action, int n)>;

  FaultProxy(int upstream_port, Decide decide) : upstream_(upstream_port), decide_(std::move(decide)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = loopback(0);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 64);
    thread_ = std::thread([this] { run(); });
  }
  ~FaultProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // How many faults of each __type were injected.
  std::map<std::string, int> injected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return injected_;
  }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  static std::string header(const std::string& head, std::string name) {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
    for (auto& c : name) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    auto start = head.find_first_not_of(' ', at + name.size() + 3);
    return head.substr(start, head.find("\r\n", start) - start);
  }

  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    std::string req;
    char buf[65536];
    size_t head_end;
    while ((head_end = req.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string head = req.substr(0, head_end);
    std::string cl = header(head, "Content-Length");
    size_t total = head_end + 4 + (cl.empty() ? 0 : std::stoul(cl));
    while (req.size() < total) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string target = header(head, "X-Amz-Target");
    std::string action = target.substr(target.find('.') + 1);
    int n = ++counts_[action];
    std::string resp;
    if (auto fault = decide_(action, n)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++injected_[fault->type];
      }
      std::string body = "{\"__type\":\"" + fault->type + "\",\"message\":\"injected\"}";
      resp = "HTTP/1.1 " + std::to_string(fault->status) + " Injected\r\n" +
             "Content-Type: application/x-amz-json-1.1\r\nConnection: close\r\n" +
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    } else {
      resp = forward(req);
    }
    send_all(fd, resp);
  }

  std::string forward(std::string req) {
    req.insert(req.find("\r\n") + 2, "Connection: close\r\n");
    int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(upstream_);
    std::string resp;
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      send_all(up, req);
      char buf[65536];
      ssize_t n;
      while ((n = ::recv(up, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
    }
    ::close(up);
    return resp;
  }

  static void send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  int upstream_;
  Decide decide_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<std::string, int> counts_;  // proxy thread only
  mutable std::mutex mu_;
  std::map<std::string, int> injected_;
};

}  // namespace pinstream::testing
