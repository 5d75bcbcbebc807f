// The HTTP side of the query server: the request parser's bounds, routing and status codes,
// keep-alive, auth on a non-loopback address, slow and oversized requests, many clients at
// once, and the event stream of epochs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "stream/query/http.h"
#include "stream/query/server.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
using nlohmann::json;

TEST(HttpParse, CompleteAndPipelinedRequests) {
  http::Request r;
  size_t used = 0;
  int status = 0;
  std::string two =
      "GET /api/views/x%20y?limit=3&format=csv HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(http::parse_request(two, {}, r, used, status), http::Parse::kDone);
  EXPECT_EQ(r.path, "/api/views/x y");
  EXPECT_EQ(r.query["limit"], "3");
  EXPECT_EQ(r.query["format"], "csv");
  EXPECT_EQ(r.headers["host"], "a");
  EXPECT_TRUE(r.keep_alive);
  ASSERT_EQ(http::parse_request(std::string_view(two).substr(used), {}, r, used, status),
            http::Parse::kDone);
  EXPECT_EQ(r.path, "/");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(http::parse_request("GET / HTTP/1.1\r\nHost: a\r\n", {}, r, used, status),
            http::Parse::kNeedMore);
  EXPECT_EQ(
      http::parse_request("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab", {}, r, used, status),
      http::Parse::kNeedMore);
}

TEST(HttpParse, MalformedAndOversizedRequestsGetTheirStatus) {
  http::Limits small;
  small.max_head_bytes = 64;
  small.max_body_bytes = 8;
  struct Case {
    std::string text;
    int status;
  };
  for (const Case& c :
       std::vector<Case>{{"GARBAGE\r\n\r\n", 400},
                         {"GET nopath HTTP/1.1\r\n\r\n", 400},
                         {"GET /%zz HTTP/1.1\r\n\r\n", 400},
                         {"GET / HTTP/2.0\r\n\r\n", 505},
                         {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
                         {"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
                         {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400},
                         {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
                         {"GET / HTTP/1.1\r\nContent-Length: 9\r\n\r\n", 413},
                         {"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 431},
                         {"GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 431},
                         {"G\x01T / HTTP/1.1\r\n", 400}}) {
    http::Request r;
    size_t used = 0;
    int status = 0;
    EXPECT_EQ(http::parse_request(c.text, small, r, used, status), http::Parse::kError) << c.text;
    EXPECT_EQ(status, c.status) << c.text;
  }
}

TEST(HttpParse, HelpersDecodeCompareAndClassifyAddresses) {
  std::string out;
  EXPECT_TRUE(http::url_decode("a%2Fb+c", out, true));
  EXPECT_EQ(out, "a/b c");
  EXPECT_FALSE(http::url_decode("%4", out, false));
  EXPECT_TRUE(http::constant_time_equal("secret", "secret"));
  EXPECT_FALSE(http::constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(http::constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(http::constant_time_equal("", "x"));
  std::string host;
  int port = 0;
  ASSERT_TRUE(http::split_listen_address("[::1]:8080", host, port).is_ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  EXPECT_FALSE(http::split_listen_address("8080", host, port).is_ok());
  EXPECT_FALSE(http::split_listen_address("h:99999", host, port).is_ok());
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    EXPECT_TRUE(http::is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "192.0.2.7", "10.1.2.3", "no-such-host.invalid"})
    EXPECT_FALSE(http::is_loopback_host(h)) << h;
}

// A non-loopback IPv4 address of this machine, or "" when it has none.
std::string local_non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

struct Server {
  testing::TempDir dir{"ps-http"};
  std::atomic<int64_t> epoch{7};
  std::unique_ptr<QueryServer> server;
  std::string host = "127.0.0.1";
  explicit Server(const std::string& listen_host = "127.0.0.1", const std::string& token = "",
                  int idle_ms = 30000, size_t max_events = 64) {
    host = listen_host;
    QueryServerOptions o;
    o.socket_path = (dir.path() / "q.sock").string();
    o.idle_timeout_ms = idle_ms;
    o.http.listen = listen_host + ":0";
    o.http.token = token;
    o.http.max_event_clients = max_events;
    o.http.limits.max_head_bytes = 4096;
    QueryContext ctx;
    ctx.committed = [this] {
      CommittedView v;
      v.epoch = epoch.load();
      v.meta.counters["pin"] = {5, 3, 1, 1, 0};
      return v;
    };
    ctx.tables = [](const CommittedView&) { return std::string(R"({"ok":true,"tables":[]})"); };
    auto s = QueryServer::start(o, ctx);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    if (s) server = std::move(*s);
  }
  int connect() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server->http_port()));
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
};

void send_text(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Reads one response (head + Content-Length body), or until close / timeout. Bytes read past
// it (pipelined responses) stay in *carry for the next call.
std::string read_response(int fd, int timeout_ms = 5000, std::string* carry = nullptr) {
  std::string in = carry ? std::move(*carry) : std::string();
  if (carry) carry->clear();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t head = in.find("\r\n\r\n");
    if (head != std::string::npos) {
      size_t cl = in.find("Content-Length: ");
      if (cl != std::string::npos && cl < head) {
        size_t len = std::stoul(in.substr(cl + 16));
        if (in.size() >= head + 4 + len) {
          if (carry) *carry = in.substr(head + 4 + len);
          return in.substr(0, head + 4 + len);
        }
      }
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return in;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

std::string body_of(const std::string& resp) { return resp.substr(resp.find("\r\n\r\n") + 4); }

bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

TEST(HttpServer, KeepAliveRoutesAndStatuses) {
  Server s;
  int fd = s.connect();
  ASSERT_GE(fd, 0);
  send_text(fd, "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = read_response(fd);
  ASSERT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_EQ(json::parse(body_of(r))["epoch"], 7);
  // The same connection serves more requests, pipelined ones in order.
  send_text(fd,
            "GET /nope HTTP/1.1\r\n\r\nPOST /api/stats HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
            "GET /api/views/x HTTP/1.1\r\n\r\n");
  std::string carry;
  r = read_response(fd, 5000, &carry);
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
  r = read_response(fd, 5000, &carry);
  EXPECT_EQ(r.rfind("HTTP/1.1 405", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: GET"), std::string::npos);
  r = read_response(fd, 5000, &carry);
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;  // this context has no views
  EXPECT_EQ(json::parse(body_of(r))["error"]["code"], "unknown_view");
  send_text(fd, "GET / HTTP/1.1\r\n\r\n");
  r = read_response(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(r.find("text/html"), std::string::npos);
  send_text(fd, "GET /assets/chart.min.js HTTP/1.1\r\nConnection: close\r\n\r\n");
  r = read_response(fd);
  EXPECT_NE(r.find("Chart.js v3"), std::string::npos) << r.substr(0, 300);
  EXPECT_TRUE(closed_by_peer(fd));
  ::close(fd);
}

TEST(HttpServer, MalformedOversizedAndSlowRequestsAreAnsweredAndClosed) {
  Server s("127.0.0.1", "", 400);
  struct Case {
    std::string text;
    const char* status;
  };
  for (const Case& c :
       std::vector<Case>{{"BLAH\r\n\r\n", "400"},
                         {"GET / HTTP/1.1\r\nX: " + std::string(8000, 'a') + "\r\n\r\n", "431"},
                         {"GET / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", "413"},
                         {std::string("GET /\0 HTTP/1.1\r\n\r\n", 19), "400"}}) {
    int fd = s.connect();
    send_text(fd, c.text);
    std::string r = read_response(fd);
    EXPECT_EQ(r.substr(0, 12), std::string("HTTP/1.1 ") + c.status) << r;
    EXPECT_TRUE(closed_by_peer(fd));
    ::close(fd);
  }
  // A request that trickles in gets the idle time in total: 408, then closed.
  int fd = s.connect();
  auto start = std::chrono::steady_clock::now();
  bool got_408 = false;
  for (int i = 0; i < 40 && !got_408; ++i) {
    ::send(fd, "G", 1, MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) got_408 = read_response(fd, 500).rfind("HTTP/1.1 408", 0) == 0;
  }
  EXPECT_TRUE(got_408);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ::close(fd);
}

TEST(HttpServer, NonLoopbackNeedsTheTokenAndRefusesToStartWithout) {
  std::string ip = local_non_loopback_ipv4();
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  {
    QueryServerOptions o;
    testing::TempDir dir("ps-http-open");
    o.socket_path = (dir.path() / "q.sock").string();
    o.http.listen = ip + ":0";
    QueryContext ctx;
    ctx.committed = [] { return CommittedView(); };
    auto refused = QueryServer::start(o, ctx);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message().find("needs a token"), std::string::npos)
        << refused.error().message();
  }
  Server s(ip, "s3cret-token");
  for (const std::string& auth : {std::string(), std::string("Authorization: Bearer wrong\r\n"),
                                  std::string("Authorization: Basic s3cret-token\r\n")}) {
    int fd = s.connect();
    ASSERT_GE(fd, 0);
    send_text(fd, "GET /api/stats HTTP/1.1\r\n" + auth + "\r\n");
    std::string r = read_response(fd);
    EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << auth << r;
    EXPECT_NE(r.find("WWW-Authenticate: Bearer"), std::string::npos);
    ::close(fd);
  }
  int fd = s.connect();
  send_text(fd, "GET /metrics HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\n\r\n");
  std::string r = read_response(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("pinstream_epoch 7"), std::string::npos);
  ::close(fd);
}

TEST(HttpServer, SixtyFourClientsAtOnce) {
  Server s;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i)
    clients.emplace_back([&] {
      int fd = s.connect();
      if (fd < 0) return;
      for (int k = 0; k < 10; ++k) {
        send_text(fd, "GET /api/stats HTTP/1.1\r\n\r\n");
        std::string r = read_response(fd);
        json j = json::parse(body_of(r), nullptr, false);
        if (r.rfind("HTTP/1.1 200", 0) == 0 && j.is_object() && j["epoch"] == 7) ok.fetch_add(1);
      }
      ::close(fd);
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 640);
}

TEST(HttpServer, EventStreamAnnouncesEveryEpochAndIsBounded) {
  Server s("127.0.0.1", "", 30000, 2);
  int fd = s.connect();
  send_text(fd, "GET /api/events HTTP/1.1\r\n\r\n");
  std::string got;
  auto read_until = [&](const std::string& want) {
    return testing::wait_until(
        [&] {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 50) > 0) {
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) got.append(buf, static_cast<size_t>(n));
          }
          return got.find(want) != std::string::npos;
        },
        std::chrono::seconds(5));
  };
  ASSERT_TRUE(read_until("\"epoch\":7")) << got;
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  for (int e = 8; e <= 10; ++e) {
    s.epoch.store(e);
    ASSERT_TRUE(read_until("\"epoch\":" + std::to_string(e))) << got;
  }
  // Epochs that commit between two looks are announced too.
  s.epoch.store(13);
  ASSERT_TRUE(read_until("\"epoch\":13")) << got;
  // One event per epoch, in order.
  size_t events = 0;
  for (size_t at = 0; (at = got.find("event: epoch\n", at)) != std::string::npos; ++at) ++events;
  EXPECT_EQ(events, 7u) << got;
  for (int e = 7; e <= 13; ++e)
    EXPECT_NE(got.find("\"epoch\":" + std::to_string(e) + "}"), std::string::npos) << e;
  int second = s.connect();
  send_text(second, "GET /api/events HTTP/1.1\r\n\r\n");
  int third = s.connect();
  send_text(third, "GET /api/events HTTP/1.1\r\n\r\n");
  std::string r = read_response(third);
  EXPECT_NE(r.find(" 503 "), std::string::npos) << r;  // max_event_clients = 2
  for (int f : {fd, second, third}) ::close(f);
}

}  // namespace
}  // namespace pinstream::runtime
