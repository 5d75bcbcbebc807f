// A tiny loopback HTTP server for tests that fake an AWS endpoint (STS, the ECS container
// endpoint, EC2 IMDS): one thread, every request handed to `handle` which returns the
// status and body. Records the requests and counts the connections. One request per
// connection (Connection: close), or with keep_alive every request the client sends on it
// (one client at a time: the stub serves one connection until it closes).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/loopback.h"

namespace pinstream::testing {

struct StubRequest {
  std::string method, target;  // target: path and query
  std::string head;            // request line and headers, lower-cased names kept as sent
  std::string body;
  // The value of header `name` (case-insensitive); empty when absent.
  std::string header(const std::string& name) const { return http_header(head, name); }
};

struct StubResponse {
  int status = 200;
  std::string body;
};

class HttpStub {
 public:
  using Handler = std::function<StubResponse(const StubRequest&)>;

  explicit HttpStub(Handler handle, bool keep_alive = false)
      : handle_(std::move(handle)), keep_alive_(keep_alive) {
    listen_fd_ = listen_loopback(&port_);
    thread_ = std::thread([this] { run(); });
  }
  ~HttpStub() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<StubRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int connections() const { return connections_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      std::string data;
      while (serve(fd, data) && keep_alive_ && !stop_) {
      }
      ::close(fd);
    }
  }

  // Serves one request from `data` (bytes left from the previous one) and the socket.
  // Returns false when the connection ended.
  bool serve(int fd, std::string& data) {
    char buf[8192];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) == 0) {
        if (stop_) return false;
        continue;
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    StubRequest req;
    req.head = data.substr(0, head_end);
    std::string cl = req.header("Content-Length");
    size_t total = head_end + 4 + (cl.empty() ? 0 : std::stoul(cl));
    while (data.size() < total) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    req.body = data.substr(head_end + 4, total - head_end - 4);
    data.erase(0, total);
    auto sp1 = req.head.find(' ');
    auto sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    StubResponse r = handle_(req);
    const bool no_body = req.method == "HEAD";
    std::string out = "HTTP/1.1 " + std::to_string(r.status) +
                      " Stub\r\nConnection: " + (keep_alive_ ? "keep-alive" : "close") +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" +
                      (no_body ? "" : r.body);
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  Handler handle_;
  bool keep_alive_;
  std::atomic<int> connections_{0};
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<StubRequest> requests_;
};

}  // namespace pinstream::testing
