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

#include "tests/support/loopback.h"

namespace pinstream::testing {

struct Fault {
  int status;        // 400, 500, ...
  std::string type;  // the JSON __type, e.g. ProvisionedThroughputExceededException
};

class FaultProxy {
 public:
  using Decide = std::function<std::optional<Fault>(const std::string& action, int n)>;

  FaultProxy(int upstream_port, Decide decide)
      : upstream_(upstream_port), decide_(std::move(decide)) {
    listen_fd_ = listen_loopback(&port_);
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
    std::string cl = http_header(head, "Content-Length");
    size_t total = head_end + 4 + (cl.empty() ? 0 : std::stoul(cl));
    while (req.size() < total) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string target = http_header(head, "X-Amz-Target");
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
      resp = http_forward(upstream_, req);
    }
    send_all(fd, resp);
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
