// A tiny loopback proxy in front of s3rver (s3_emulator.h) for what s3rver lacks:
//  - conditional PUT: s3rver ignores `If-None-Match: *`; the proxy answers 412
//    PreconditionFailed when the key exists (checked with an anonymous HEAD upstream, under
//    one lock so two racing writers cannot both pass), and forwards otherwise; GETs and
//    HEADs wait for a conditional PUT in flight (s3rver shows an object its PUT is still
//    writing, S3 never does);
//  - faults on chosen requests: 503 SlowDown (or any S3 error answer), a connection reset
//    in the middle of the response body (after the request reached s3rver: the write
//    happened, the answer is lost), or a delay before forwarding;
//  - SigV4 checks: s3rver does not verify V4 signatures, so the proxy keeps each request's
//    head and (small) body for a test to verify them with botocore.
// One thread per connection, one request per connection (Connection: close upstream and
// down). Requests with a chunked body are not supported (libcurl sends Content-Length).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinstream::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;  // path and query, as sent: "/bucket/key?partNumber=1&uploadId=..."
  int n = 0;           // 1-based count of all requests the proxy has seen
  std::string head;    // request line and headers as received
  std::string body;    // kept up to 16 MiB (empty when larger)
};

enum class S3FaultKind { kNone, kSlowDown, kErrorAnswer, kResetMidBody, kDelay };

struct S3Fault {
  S3FaultKind kind = S3FaultKind::kNone;
  int delay_ms = 0;  // for kDelay
  int status = 0;    // for kErrorAnswer, e.g. 403
  std::string code;  // for kErrorAnswer, e.g. "SignatureDoesNotMatch"

  static S3Fault none() { return {}; }
  static S3Fault slow_down() { return with(S3FaultKind::kSlowDown); }
  static S3Fault reset_mid_body() { return with(S3FaultKind::kResetMidBody); }
  static S3Fault delay(int ms) {
    S3Fault f = with(S3FaultKind::kDelay);
    f.delay_ms = ms;
    return f;
  }
  static S3Fault error(int http_status, std::string s3_code) {
    S3Fault f = with(S3FaultKind::kErrorAnswer);
    f.status = http_status;
    f.code = std::move(s3_code);
    return f;
  }

 private:
  static S3Fault with(S3FaultKind k) {
    S3Fault f;
    f.kind = k;
    return f;
  }
};

class S3FaultProxy {
 public:
  using Decide = std::function<S3Fault(const ProxiedRequest&)>;

  explicit S3FaultProxy(int upstream_port, Decide decide = nullptr);
  ~S3FaultProxy();
  S3FaultProxy(const S3FaultProxy&) = delete;
  S3FaultProxy& operator=(const S3FaultProxy&) = delete;
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_decide(Decide decide);
  // Injected faults by kind name ("SlowDown", "Reset", "Delay", "PreconditionFailed", or
  // the code of an error answer).
  std::map<std::string, int> injected() const;
  std::vector<ProxiedRequest> requests() const;

 private:
  void run();
  void serve(int fd);
  std::string forward(std::string request) const;
  bool exists_upstream(const std::string& path) const;
  void count(const std::string& kind);

  int upstream_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;  // decide_, injected_, requests_, workers_
  Decide decide_;
  std::map<std::string, int> injected_;
  std::vector<ProxiedRequest> requests_;
  std::vector<std::thread> workers_;
  // One conditional PUT at a time (check-then-write is atomic), and no read beside one.
  std::shared_mutex conditional_mu_;
};

}  // namespace pinstream::testing
