#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "stream/query/answer.h"
#include "stream/query/client.h"
#include "stream/query/server.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
using nlohmann::json;

struct Fixture {
  testing::TempDir dir{"ps-q"};
  std::string path = (dir.path() / "q.sock").string();
  std::unique_ptr<QueryServer> server;
  explicit Fixture(int idle_ms = 30000, size_t max_bytes = 1 << 20, int metrics_port = 0,
                   size_t max_output = 1 << 20) {
    QueryServerOptions o;
    o.max_output_bytes = max_output;
    o.metrics_port = metrics_port;
    o.socket_path = path;
    o.idle_timeout_ms = idle_ms;
    o.max_request_bytes = max_bytes;
    QueryContext ctx;
    ctx.committed = [] {
      CommittedView v;
      v.epoch = 7;
      v.meta.counters["pin"] = {5, 3, 1, 1, 0};
      return v;
    };
    auto s = QueryServer::start(o, ctx);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    if (s) server = std::move(*s);
  }
  json ask(const std::string& line) {
    auto a = query_socket(path, line);
    EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().message());
    return a ? json::parse(*a, nullptr, false) : json();
  }
};

TEST(QueryServer, SocketIsOwnerOnly) {
  Fixture f;
  struct stat st {};
  ASSERT_EQ(::stat(f.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(QueryServer, AnswersStatsAndRejectsEveryKindOfBadRequest) {
  Fixture f;
  json stats = f.ask(R"({"stats":true})");
  EXPECT_EQ(stats["ok"], true);
  EXPECT_EQ(stats["epoch"], 7);
  EXPECT_EQ(stats["streams"]["pin"]["read"], 5);
  // The fields SPEC section 7 names: per stream read, clean, dead, duplicates, late, lag; epoch;
  // uptime.
  for (const char* k : {"read", "clean", "dead", "duplicates", "late", "lag"})
    EXPECT_TRUE(stats["streams"]["pin"].contains(k)) << k;
  EXPECT_TRUE(stats["uptime"].is_number()) << stats.dump();
  struct Case {
    std::string line;
    std::string code;
  };
  for (const Case& c :
       std::vector<Case>{{"{nope", "bad_request"},
                         {std::string("{\"view\":\"a\0b\"}", 13), "bad_request"},
                         {"\xff\xfe{}", "bad_request"},
                         {"[1,2]", "bad_request"},
                         {"42", "bad_request"},
                         {R"({"view":12})", "bad_request"},
                         {R"({"view":"x","params":[1]})", "bad_request"},
                         {R"({"view":"x","params":{"a":{"b":1}}})", "bad_request"},
                         {R"({"list":"tables"})", "bad_request"},
                         {R"({"hello":1})", "bad_request"},
                         {R"({"stats":false})", "bad_request"},
                         {R"({"stats":1})", "bad_request"},
                         {R"({"metrics":false})", "bad_request"},
                         {std::string(100000, '[') + std::string(100000, ']'), "bad_request"},
                         {R"({"view":"x","params":{"a":)" + std::string(20, '[') + "1" +
                              std::string(20, ']') + "}}",
                          "bad_request"},
                         {R"({"view":"no_such_view"})", "unknown_view"}}) {
    json a = f.ask(c.line);
    ASSERT_TRUE(a.is_object()) << c.line;
    EXPECT_EQ(a["ok"], false) << c.line;
    EXPECT_EQ(a["error"]["code"], c.code) << c.line << " -> " << a.dump();
    EXPECT_FALSE(a["error"]["message"].get<std::string>().empty());
  }
  // The server is still healthy afterwards.
  EXPECT_EQ(f.ask(R"({"list":"views"})")["ok"], true);
}

TEST(QueryServer, OverlongRequestGetsAnErrorAndTheConnectionCloses) {
  Fixture f(30000, 1024);
  int fd = testing::connect_unix_socket(f.path);
  ASSERT_GE(fd, 0);
  std::string big(4096, 'x');
  ASSERT_EQ(::send(fd, big.data(), big.size(), MSG_NOSIGNAL), static_cast<ssize_t>(big.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  EXPECT_NE(got.find("request_too_large"), std::string::npos) << got;
  EXPECT_EQ(f.ask(R"({"stats":true})")["ok"], true);
}

TEST(QueryServer, SixtyFourClientsTimesFortyRequestsAllSucceed) {
  Fixture f;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < 64; ++c) {
    threads.emplace_back([&] {
      for (int r = 0; r < 40; ++r) {
        auto a = query_socket(f.path, R"({"stats":true})");
        if (a && a->find("\"ok\":true") != std::string::npos)
          ok++;
        else
          bad++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 64 * 40);
  EXPECT_EQ(bad.load(), 0);
}

TEST(QueryServer, HalfOpenConnectionsDoNotBlockOthersAndAreClosedWhenIdle) {
  Fixture f(300);
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) {
    int fd = testing::connect_unix_socket(f.path);
    ASSERT_GE(fd, 0);
    ::send(fd, "{\"stats\":", 9, MSG_NOSIGNAL);  // never finishes the line
    idle.push_back(fd);
  }
  EXPECT_EQ(f.ask(R"({"stats":true})")["ok"], true);
  // Idle ones are closed by the server: reading gives EOF.
  for (int fd : idle) {
    char c;
    EXPECT_TRUE(testing::wait_until([&] { return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0; },
                                    std::chrono::seconds(5)));
    ::close(fd);
  }
}

TEST(QueryServer, DeepNestingIsABadRequestNamingTheDepthButStringsMayHoldBrackets) {
  Fixture f;
  json a = f.ask(std::string(1'000'000, '{'));
  EXPECT_EQ(a["error"]["code"], "bad_request");
  EXPECT_NE(a["error"]["message"].get<std::string>().find("deeper than 16"), std::string::npos)
      << a.dump();
  // Brackets inside strings are no nesting: this is an unknown view, not a bad request.
  json b = f.ask(R"({"view":")" + std::string(100, '[') + R"(\"["})");
  EXPECT_EQ(b["error"]["code"], "unknown_view") << b.dump();
}

// Sends newline-terminated `request`s without ever reading, until the socket takes no more
// for a while; returns the bytes sent.
size_t send_until_blocked(int fd, const std::string& request, size_t limit) {
  std::string chunk;
  while (chunk.size() < 65536) chunk += request + "\n";
  size_t sent = 0;
  while (sent < limit) {
    size_t off = sent % chunk.size();  // the stream stays whole lines after a partial send
    ssize_t n = ::send(fd, chunk.data() + off, chunk.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    // Blocked: give the server time to drain our requests into its buffers, if it would.
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 500) <= 0) break;
  }
  return sent;
}

TEST(QueryServer, AClientThatNeverReadsIsBoundedAndOthersAreStillServed) {
  const size_t max_output = 64 * 1024;
  Fixture f(30000, 1 << 20, 0, max_output);
  int fd = testing::connect_unix_socket(f.path);
  ASSERT_GE(fd, 0);
  // Each answer is ~200 bytes for a 15-byte request: without the bound the server would
  // buffer ~13x what we send (more than 100 MB for the 8 MB below).
  size_t sent = send_until_blocked(fd, R"({"stats":true})", size_t{8} << 20);
  EXPECT_GT(sent, max_output);
  EXPECT_EQ(f.ask(R"({"stats":true})")["ok"], true) << "other clients are still served";
  // Input: at most max_request_bytes + one read; output: max_output + one answer.
  EXPECT_LT(f.server->peak_buffered_bytes(), (size_t{1} << 20) + 65536 + max_output + 4096)
      << "sent " << sent;
  // Reading the answers resumes the connection: every request sent gets its answer.
  size_t lines = 0;
  size_t requests = 0;
  std::string chunk_line = std::string(R"({"stats":true})") + "\n";
  requests = sent / chunk_line.size();
  char buf[65536];
  bool complete = testing::wait_until(
      [&] {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
        return lines >= requests;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(complete) << lines << " answers for " << requests << " requests";
  ::close(fd);
}

TEST(QueryServer, AClientThatNeverReadsIsClosedWhenIdle) {
  Fixture f(2000, 1 << 20, 0, 4096);
  int fd = testing::connect_unix_socket(f.path);
  ASSERT_GE(fd, 0);
  send_until_blocked(fd, R"({"stats":true})", size_t{1} << 20);
  ASSERT_TRUE(testing::wait_until([&] { return f.server->buffered_bytes() > 4096; },
                                  std::chrono::seconds(5)))
      << "the server holds this client's requests and answers";
  EXPECT_TRUE(testing::wait_until([&] { return f.server->buffered_bytes() == 0; },
                                  std::chrono::seconds(10)))
      << f.server->buffered_bytes() << " bytes still held";
  // Closed: once what was already sent is read, the socket reports EOF.
  char buf[65536];
  ssize_t n = 0;
  EXPECT_TRUE(
      testing::wait_until([&] { return (n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) == 0; },
                          std::chrono::seconds(10)));
  ::close(fd);
}

TEST(QueryServer, StaleSocketIsReplacedButALiveOneIsNot) {
  testing::TempDir dir;
  std::string path = (dir.path() / "s.sock").string();
  {  // a socket file nobody listens on
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  QueryServerOptions o;
  o.socket_path = path;
  QueryContext ctx;
  ctx.committed = [] { return CommittedView{}; };
  auto first = QueryServer::start(o, ctx);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  auto second = QueryServer::start(o, ctx);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), core::StatusCode::kAlreadyExists);
  first->reset();
  EXPECT_FALSE(std::filesystem::exists(path)) << "removed on exit";
}

// Sends `request`, reads until the server closes, closes `fd`.
std::string send_and_read_all(int fd, const std::string& request) {
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return got;
}

TEST(QueryServer, HttpGetMetricsWorks) {
  Fixture f;
  int fd = testing::connect_unix_socket(f.path);
  ASSERT_GE(fd, 0);
  std::string req = "GET /metrics HTTP/1.0\r\n\r\n";
  std::string got = send_and_read_all(fd, req);
  EXPECT_EQ(got.rfind("HTTP/1.0 200 OK", 0), 0u) << got;
  EXPECT_NE(got.find("pinstream_records_read_total{stream=\"pin\"} 5"), std::string::npos) << got;
}

// One HTTP exchange over loopback TCP; the whole response.
std::string http_over_tcp(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
    ::close(fd);
    return "connect failed";
  }
  return send_and_read_all(fd, request);
}

TEST(QueryServer, MetricsPortServesMetricsOnlyOnLoopback) {
  // A free port: bind 0, read it back, release it.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof in;
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&in), &len);
  int port = ntohs(in.sin_port);
  ::close(probe);
  Fixture f(30000, 1 << 20, port);
  ASSERT_TRUE(f.server);
  std::string got = http_over_tcp(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.0 200 OK", 0), 0u) << got;
  EXPECT_NE(got.find("pinstream_records_read_total{stream=\"pin\"} 5"), std::string::npos) << got;
  // Views, stats and JSON requests stay behind the socket's file mode.
  EXPECT_EQ(http_over_tcp(port, "GET /stats HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0), 0u);
  EXPECT_EQ(http_over_tcp(port, "{\"stats\":true}\n").find("streams"), std::string::npos);
}

// A server that answers every connection with an endless line (no newline), `delay_us`
// between 64 KiB writes.
class EndlessServer {
 public:
  EndlessServer(const std::string& path, int delay_us) {
    listen_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_, 4), 0);
    thread_ = std::thread([this, delay_us] {
      int fd = ::accept(listen_, nullptr, nullptr);
      std::string chunk(65536, 'x');
      while (!stop_ && ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0)
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      ::close(fd);
    });
  }
  ~EndlessServer() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    thread_.join();
    ::close(listen_);
  }

 private:
  int listen_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(QueryClient, GivesUpAtItsDeadlineOnAnAnswerThatNeverEnds) {
  testing::TempDir dir{"ps-qc"};
  std::string path = (dir.path() / "endless.sock").string();
  EndlessServer server(path, 20'000);  // ~3 MB/s: a per-read timeout would never fire
  QueryClientOptions o;
  o.timeout_ms = 500;
  auto start = std::chrono::steady_clock::now();
  auto a = query_socket(path, R"({"stats":true})", o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code(), core::StatusCode::kIoError);
  EXPECT_NE(a.error().message().find("within 500 ms"), std::string::npos) << a.error().message();
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(QueryClient, RefusesAnAnswerLargerThanItsBound) {
  testing::TempDir dir{"ps-qc"};
  std::string path = (dir.path() / "endless.sock").string();
  EndlessServer server(path, 0);
  QueryClientOptions o;
  o.timeout_ms = 60'000;
  o.max_answer_bytes = 1 << 20;
  auto a = query_socket(path, R"({"stats":true})", o);
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message().find("exceeds 1048576 bytes without a newline"), std::string::npos)
      << a.error().message();
}

TEST(AnswerCache, ServesAnAnswerOnlyForTheEpochItWasComputedAtAndKeepsTwoEpochs) {
  AnswerCache cache(3);
  std::string a;
  EXPECT_FALSE(cache.get(1, "v", a));
  cache.put(1, "v", "one");
  ASSERT_TRUE(cache.get(1, "v", a));
  EXPECT_EQ(a, "one");
  EXPECT_FALSE(cache.get(1, "w", a));
  EXPECT_FALSE(cache.get(2, "v", a)) << "a new epoch never sees the old answer";
  // Epoch 2 is computed while queries still see epoch 1: both are kept.
  cache.put(2, "v", "two");
  ASSERT_TRUE(cache.get(1, "v", a));
  EXPECT_EQ(a, "one");
  ASSERT_TRUE(cache.get(2, "v", a));
  EXPECT_EQ(a, "two");
  cache.put(3, "v", "three");  // epoch 1 goes
  EXPECT_FALSE(cache.get(1, "v", a));
  cache.put(1, "v", "late");  // a slow query of an old snapshot finishing late: dropped
  EXPECT_FALSE(cache.get(1, "v", a));
  ASSERT_TRUE(cache.get(2, "v", a));
  EXPECT_EQ(a, "two");
  for (const char* k : {"a", "b", "c", "d"}) cache.put(3, k, k);  // bounded: cleared when full
  EXPECT_TRUE(cache.get(3, "d", a));
  EXPECT_FALSE(cache.get(3, "a", a));
}

}  // namespace
}  // namespace pinstream::runtime
