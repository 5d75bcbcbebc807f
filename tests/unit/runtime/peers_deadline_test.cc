// A hung peer (SPEC section 9): merged answers wait for it at most the peer deadline, off the
// query server's thread, so the member's other clients are served meanwhile; the hung
// peer's tasks are named as missing, with the reason.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/http/http_client.h"
#include "stream/query/client.h"
#include "tests/support/loopback.h"
#include "tests/unit/runtime/peers_fixture.h"

namespace pinstream::runtime {
namespace {
using namespace peers_test;  // NOLINT
using Clock = std::chrono::steady_clock;

// A peer that accepts connections and never answers.
class HungPeer {
 public:
  HungPeer() : fd_(pinstream::testing::listen_loopback(&port_)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) held_.push_back(c), ++accepted_;
      }
    });
  }
  ~HungPeer() {
    stop_ = true;
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }

 private:
  int port_ = 0;
  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;  // the accepting thread's alone
  std::thread thread_;
};

// Both tasks of the hung peer missing, each for the deadline.
void expect_hung_peer_named(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << body;
  ASSERT_TRUE(j.contains("tasks")) << body;
  EXPECT_EQ(j["tasks"]["covered"], 2) << body;
  EXPECT_EQ(j["tasks"]["total"], 4) << body;
  ASSERT_EQ(j["tasks"]["missing"].size(), 2u) << body;
  for (const auto& m : j["tasks"]["missing"])
    EXPECT_NE(m["reason"].get<std::string>().find("missed the query's deadline (no answer "
                                                  "within 1500 ms)"),
              std::string::npos)
        << body;
}

TEST(PeerDeadline, AHungPeerDelaysOnlyTheMergedAnswersAndItsTasksAreNamed) {
  const auto rows = posts(100);
  Member a({0, 1}, rows);
  HungPeer hung;
  auto access = std::make_shared<PeerAccess>(access_to({peer(hung.address(), {2, 3})}));
  access->timeout_ms = 1500;
  TempDir dir{"ps-peers-hung"};
  QueryServerOptions opts;
  opts.socket_path = (dir.path() / "q.sock").string();
  opts.http.listen = "127.0.0.1:0";
  auto server = QueryServer::start(opts, a.context(access));
  ASSERT_TRUE(server) << server.error().message();
  const std::string view = a.views->names()[0];

  // One merged answer asked on the socket, one over HTTP.
  std::atomic<int> answered{0};
  std::string socket_answer;
  connectors::http::Response http_answer;
  const auto asked = Clock::now();
  std::thread on_socket([&] {
    auto r = query_socket(opts.socket_path, R"({"view":")" + view + "\"}");
    socket_answer = r ? *r : r.error().message();
    ++answered;
  });
  std::thread over_http([&] {
    connectors::http::Client client;
    connectors::http::Request req;
    req.url = "http://127.0.0.1:" + std::to_string((*server)->http_port()) + "/api/views/" + view;
    if (!client.send(req, http_answer).is_ok()) http_answer.status = -1;
    ++answered;
  });
  // Both wait for the hung peer once it has accepted their two requests' connections.
  ASSERT_TRUE(pinstream::testing::wait_until([&] { return hung.accepted() >= 2; },
                                             std::chrono::seconds(5)));

  // Another client of the same member is served at once meanwhile.
  const auto started = Clock::now();
  auto stats = query_socket(opts.socket_path, R"({"stats":true})");
  const auto waited = Clock::now() - started;
  EXPECT_EQ(answered.load(), 0) << "a merged answer came before the peer deadline";
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_NE(stats->find("\"members\""), std::string::npos) << *stats;
  EXPECT_LT(waited, std::chrono::milliseconds(300));

  on_socket.join();
  over_http.join();
  EXPECT_GE(Clock::now() - asked, std::chrono::milliseconds(1400));
  expect_hung_peer_named(socket_answer);
  ASSERT_EQ(http_answer.status, 200) << http_answer.body;
  expect_hung_peer_named(http_answer.body);
}

// Everything `fd` sends until it closes.
std::string read_to_end(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(PeerDeadline, RequestsPipelinedBehindAMergedAnswerAreAnsweredInOrder) {
  const auto rows = posts(100);
  Member a({0, 1}, rows);
  auto access = std::make_shared<PeerAccess>(access_to({}, 2));
  QueryServerOptions opts;
  opts.http.listen = "127.0.0.1:0";
  auto server = QueryServer::start(opts, a.context(access));
  ASSERT_TRUE(server) << server.error().message();
  const std::string view = a.views->names()[0];
  const int fd = pinstream::testing::connect_loopback((*server)->http_port());
  ASSERT_GE(fd, 0);
  pinstream::testing::send_all(fd, "GET /api/views/" + view +
                                       " HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /api/stats HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n");
  const std::string got = read_to_end(fd);
  ::close(fd);
  const size_t merged = got.find(R"("tasks":{"covered":2,"total":2})");
  const size_t stats = got.find(R"("members":)");
  ASSERT_NE(merged, std::string::npos) << got;
  ASSERT_NE(stats, std::string::npos) << got;
  EXPECT_LT(merged, stats) << got;
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
}

}  // namespace
}  // namespace pinstream::runtime
