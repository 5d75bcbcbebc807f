// The emulator's kafka-rest sink against a minimal in-process HTTP server standing in for a
// Confluent REST proxy: path, content type, body shape, batching, malformed records, errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"

namespace pinstream::runtime::emulator {
namespace {

using nlohmann::json;

struct Request {
  std::string path, content_type, body;
};

// Answers every request with `status`; records what it received. One connection at a time.
class FakeRestProxy {
 public:
  explicit FakeRestProxy(int status) : status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRestProxy() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 50) > 0;
  }
  void serve() {
    while (!stop_) {
      if (!readable(fd_)) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string buf;
      char chunk[65536];
      while (!stop_) {
        size_t head_end = buf.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          std::string head = buf.substr(0, head_end);
          std::string lower = head;
          std::transform(lower.begin(), lower.end(), lower.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
          size_t cl = lower.find("content-length: ");
          size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
          if (lower.find("expect: 100-continue") != std::string::npos &&
              buf.size() == head_end + 4) {
            ::send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
          }
          if (buf.size() >= head_end + 4 + length) {
            Request r;
            r.path = head.substr(head.find(' ') + 1,
                                 head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
            size_t ct = lower.find("content-type: ");
            if (ct != std::string::npos)
              r.content_type = head.substr(ct + 14, head.find("\r\n", ct) - ct - 14);
            r.body = buf.substr(head_end + 4, length);
            buf.erase(0, head_end + 4 + length);
            {
              std::lock_guard<std::mutex> l(mu_);
              requests_.push_back(r);
            }
            std::string resp = "HTTP/1.1 " + std::to_string(status_) +
                               " X\r\nContent-Type: application/json\r\n"
                               "Content-Length: 2\r\n\r\n{}";
            ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            continue;
          }
        }
        if (!readable(c)) continue;
        ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
      }
      ::close(c);
    }
  }

  int status_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

TEST(KafkaRestSink, PostsKeyedBatchesPerTopicInTheProxysJsonFormat) {
  FakeRestProxy proxy(200);
  auto sink = make_kafka_rest_sink(proxy.url());
  Generator gen({.seed = 4, .malformed_rate = 0.3});
  Record pin, geo, user;
  std::vector<Record> sent;
  for (int i = 0; i < 400; ++i) {  // 400 per topic: under the 500-record batch, one POST each
    gen.next(pin, geo, user);
    for (const Record* r : {&pin, &geo, &user}) {
      ASSERT_TRUE(sink->send("p." + std::string(r->stream), *r).is_ok());
      sent.push_back(*r);
    }
  }
  EXPECT_TRUE(proxy.requests().empty());  // batched until flush
  ASSERT_TRUE(sink->flush().is_ok());
  auto reqs = proxy.requests();
  ASSERT_EQ(reqs.size(), 3u);
  size_t i_pin = 0, records = 0, strings = 0;
  for (const auto& r : reqs) {
    EXPECT_EQ(r.content_type, "application/vnd.kafka.json.v2+json");
    ASSERT_EQ(r.path.rfind("/topics/p.", 0), 0u) << r.path;
    json body = json::parse(r.body);  // the whole batch stays valid JSON, malformed records too
    std::string stream = r.path.substr(10);
    std::vector<const Record*> mine;
    for (const auto& s : sent)
      if (stream == s.stream) mine.push_back(&s);
    ASSERT_EQ(body["records"].size(), mine.size());
    for (size_t k = 0; k < mine.size(); ++k) {
      const json& rec = body["records"][k];
      EXPECT_EQ(rec["key"], std::to_string(mine[k]->ind));
      if (json::accept(mine[k]->json)) {
        EXPECT_EQ(rec["value"], json::parse(mine[k]->json));
      } else {
        ASSERT_TRUE(rec["value"].is_string());  // carried as text
        ++strings;
      }
      ++records;
    }
    i_pin += stream == "pin";
  }
  EXPECT_EQ(i_pin, 1u);
  EXPECT_EQ(records, 1200u);
  EXPECT_GT(strings, 10u);
}

TEST(KafkaRestSink, SendsAFullBatchWithoutWaitingForFlush) {
  FakeRestProxy proxy(200);
  auto sink = make_kafka_rest_sink(proxy.url());
  Generator gen({.seed = 4});
  Record pin, geo, user;
  for (int i = 0; i < 500; ++i) {
    gen.next(pin, geo, user);
    ASSERT_TRUE(sink->send("p.pin", pin).is_ok());
  }
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(json::parse(proxy.requests()[0].body)["records"].size(), 500u);
}

TEST(KafkaRestSink, ARejectedBatchIsAnErrorNamingTheStatus) {
  FakeRestProxy proxy(422);
  auto sink = make_kafka_rest_sink(proxy.url());
  Generator gen({.seed = 4});
  Record pin, geo, user;
  gen.next(pin, geo, user);
  ASSERT_TRUE(sink->send("p.pin", pin).is_ok());
  core::Status st = sink->flush();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("422"), std::string::npos) << st.to_string();
  EXPECT_EQ(proxy.requests().size(), 1u);  // a 4xx is not retried
}

}  // namespace
}  // namespace pinstream::runtime::emulator
