#include "tests/support/s3_fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>

#include "tests/support/loopback.h"

namespace pinstream::testing {
namespace {

std::string error_response(int status, const std::string& reason, const std::string& code) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                     "</Code><Message>injected by the test proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

S3FaultProxy::S3FaultProxy(int upstream_port, Decide decide)
    : upstream_(upstream_port), decide_(std::move(decide)) {
  listen_fd_ = listen_loopback(&port_);
  acceptor_ = std::thread([this] { run(); });
}

S3FaultProxy::~S3FaultProxy() {
  stop_ = true;
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
}

void S3FaultProxy::set_decide(Decide decide) {
  std::lock_guard<std::mutex> lock(mu_);
  decide_ = std::move(decide);
}

std::map<std::string, int> S3FaultProxy::injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

std::vector<ProxiedRequest> S3FaultProxy::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void S3FaultProxy::count(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  ++injected_[kind];
}

void S3FaultProxy::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void S3FaultProxy::serve(int fd) {
  std::string req;
  char buf[65536];
  size_t head_end;
  while ((head_end = req.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  const std::string head = req.substr(0, head_end);
  const std::string cl = http_header(head, "Content-Length");
  const size_t total = head_end + 4 + (cl.empty() ? 0 : std::stoul(cl));
  while (req.size() < total) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  ProxiedRequest pr;
  pr.head = head;
  if (total - head_end - 4 <= (16u << 20)) pr.body = req.substr(head_end + 4);
  pr.method = head.substr(0, head.find(' '));
  pr.target = head.substr(pr.method.size() + 1,
                          head.find(' ', pr.method.size() + 1) - pr.method.size() - 1);
  S3Fault fault;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pr.n = static_cast<int>(requests_.size()) + 1;
    requests_.push_back(pr);
    if (decide_) fault = decide_(pr);
  }
  if (fault.kind == S3FaultKind::kSlowDown) {
    count("SlowDown");
    std::string resp = error_response(503, "Slow Down", "SlowDown");
    send_all(fd, resp.data(), resp.size());
    return;
  }
  if (fault.kind == S3FaultKind::kErrorAnswer) {
    count(fault.code);
    std::string resp = error_response(fault.status, "Injected", fault.code);
    send_all(fd, resp.data(), resp.size());
    return;
  }
  if (fault.kind == S3FaultKind::kDelay) {
    count("Delay");
    std::this_thread::sleep_for(std::chrono::milliseconds(fault.delay_ms));
  }
  std::string resp;
  if (pr.method == "PUT" && http_header(head, "If-None-Match") == "*") {
    std::unique_lock<std::shared_mutex> lock(conditional_mu_);
    if (exists_upstream(pr.target.substr(0, pr.target.find('?')))) {
      count("PreconditionFailed");
      resp = error_response(412, "Precondition Failed", "PreconditionFailed");
    } else {
      resp = forward(req);
    }
  } else if (pr.method == "GET" || pr.method == "HEAD") {
    // s3rver shows an object while its PUT is still writing it (a GET may read 0 bytes); S3
    // never does. Reads wait for the conditional PUT in flight, as S3's atomic PUT would.
    std::shared_lock<std::shared_mutex> lock(conditional_mu_);
    resp = forward(req);
  } else {
    resp = forward(req);
  }
  if (fault.kind == S3FaultKind::kResetMidBody) {
    count("Reset");
    send_all(fd, resp.data(), resp.size() / 2);
    linger hard{1, 0};  // close with RST, not FIN
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    return;
  }
  send_all(fd, resp.data(), resp.size());
}

std::string S3FaultProxy::forward(std::string req) const {
  return http_forward(upstream_, std::move(req));
}

bool S3FaultProxy::exists_upstream(const std::string& path) const {
  std::string resp = forward(
      "HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(upstream_) + "\r\n\r\n");
  return resp.rfind("HTTP/1.1 200", 0) == 0;
}

}  // namespace pinstream::testing
