// The HTTP API of a running daemon (SPEC section 7): every view's answer equals the
// socket's (JSON and CSV), the stats, tables, dead letters and checkpoints, the metrics, and
// every metric the shipped Grafana dashboard uses exists in /metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/e2e/http_daemon.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0, nl;
  while ((nl = text.find('\n', start)) != std::string::npos) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST(HttpApi, EveryViewEqualsTheSocketAnswerAndTheFactsAreListed) {
  HttpDaemon d(1500);
  ASSERT_GT(d.port(), 0) << d.log();
  ASSERT_TRUE(d.wait_drained()) << d.log();
  json list = json::parse(HttpDaemon::body(d.get("/api/views")), nullptr, false);
  ASSERT_TRUE(list.is_object()) << d.get("/api/views");
  EXPECT_EQ(list["views"].size(), 11u);
  for (const char* view : kDefaultViews) {
    std::string r = d.get("/api/views/" + std::string(view));
    ASSERT_EQ(status_line(r), "HTTP/1.1 200 OK") << view << r;
    json http = json::parse(HttpDaemon::body(r), nullptr, false);
    json socket = json::parse(d.socket_answer(view), nullptr, false);
    ASSERT_TRUE(socket.is_object()) << view;
    EXPECT_EQ(http, socket) << view;
    EXPECT_EQ(http["rows"], d.model().view(view)) << view;
    std::string csv = d.get("/api/views/" + std::string(view) + "?format=csv");
    EXPECT_NE(csv.find("Content-Type: text/csv"), std::string::npos) << view;
    EXPECT_EQ(HttpDaemon::body(csv), d.socket_answer(view, "csv")) << view;
  }
  // Params as the socket takes them.
  struct Param {
    std::string view, query, arg;
  };
  for (const Param& p : {Param{"most_popular_category_by_country", "n=3", "--param n=3"},
                         Param{"category_count_by_year", "post_year_min=2020&post_year_max=2021",
                               "--param post_year_min=2020 --param post_year_max=2021"}}) {
    json http = json::parse(HttpDaemon::body(d.get("/api/views/" + p.view + "?" + p.query)),
                            nullptr, false);
    json socket = json::parse(d.socket_answer(p.view, "json", p.arg), nullptr, false);
    EXPECT_TRUE(socket.value("ok", false)) << p.view << socket.dump();
    EXPECT_EQ(http, socket) << p.view << " " << p.query;
  }
  std::string bad = d.get("/api/views/category_count_by_year?post_year_min=soon");
  EXPECT_EQ(status_line(bad), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(json::parse(HttpDaemon::body(bad))["error"]["code"], "bad_params");
  // Errors are the socket's error object with an HTTP status.
  std::string unknown = d.get("/api/views/no_such_view");
  EXPECT_EQ(status_line(unknown), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(json::parse(HttpDaemon::body(unknown))["error"]["code"], "unknown_view");
  EXPECT_EQ(status_line(d.get("/api/views/category_count_by_year?format=xml")),
            "HTTP/1.1 400 Bad Request");
  // Stats: the socket's object.
  json stats = json::parse(HttpDaemon::body(d.get("/api/stats")));
  for (const auto& [name, c] : d.model().counters) {
    EXPECT_EQ(stats["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(stats["streams"][name]["dead"], c.dead) << name;
  }
  // Tables: each stream's table with a version, its files and bytes.
  json tables = json::parse(HttpDaemon::body(d.get("/api/tables")));
  std::set<std::string> names;
  for (const auto& t : tables["tables"]) {
    names.insert(t["name"].get<std::string>());
    if (t["name"] == "pin") {
      EXPECT_GE(t["version"].get<int64_t>(), 1);
      EXPECT_GE(t["files"].get<int64_t>(), 1);
      EXPECT_GT(t["bytes"].get<int64_t>(), 0);
      EXPECT_FALSE(t["last_commit"].get<std::string>().empty());
    }
  }
  for (const char* t : {"pin", "geo", "user", "dead_letters"}) EXPECT_TRUE(names.count(t)) << t;
  // Dead letters: as many as the model expects, grouped by reason, newest samples first.
  json dead = json::parse(HttpDaemon::body(d.get("/api/dead-letters?limit=3")));
  ASSERT_GT(d.model().dead_letters, 0u);
  EXPECT_EQ(dead["total"], d.model().dead_letters);
  EXPECT_EQ(dead["samples"].size(), std::min<size_t>(3, d.model().dead_letters));
  int64_t grouped = 0;
  for (const auto& r : dead["by_reason"]) grouped += r["count"].get<int64_t>();
  EXPECT_EQ(grouped, static_cast<int64_t>(d.model().dead_letters));
  for (const auto& s : dead["samples"])
    for (const char* k : {"stream", "position", "reason", "raw"})
      EXPECT_TRUE(s.contains(k)) << s.dump();
  EXPECT_EQ(status_line(d.get("/api/dead-letters?limit=-1")), "HTTP/1.1 400 Bad Request");
  json checkpoints = json::parse(HttpDaemon::body(d.get("/api/checkpoints")));
  EXPECT_GE(checkpoints["checkpoints"].size(), 1u);
}

// A non-loopback IPv4 address of this machine, or "".
std::string local_non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    char buf[INET_ADDRSTRLEN];
    if ((ntohl(in->sin_addr.s_addr) >> 24) != 127 &&
        ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf))
      found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

// One request to ip:port with Connection: close; the whole response.
std::string get_from(const std::string& ip, int port, const std::string& path,
                     const std::string& headers) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    send_all(fd, "GET " + path + " HTTP/1.1\r\nConnection: close\r\n" + headers + "\r\n");
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(HttpApi, OffLoopbackTheDaemonNeedsATokenAndEveryRequestCarriesIt) {
  std::string ip = local_non_loopback_ipv4();
  if (ip.empty())
    GTEST_SKIP() << "no non-loopback IPv4 address here (the unit tests check the decision)";
  PipelineRun run("ps-http-refuse");
  run.edit_config("listen: ${PINSTREAM_HTTP:-}", "listen: \"" + ip + ":0\"");
  std::string out;
  EXPECT_EQ(run.pinstream("run --config '" + run.config().string() + "' --until-idle", &out), 2)
      << out;
  EXPECT_NE(out.find("pipeline.yaml:"), std::string::npos) << out;
  EXPECT_NE(out.find("runtime.http.listen"), std::string::npos) << out;
  EXPECT_NE(out.find("token"), std::string::npos) << out;
  HttpDaemonOptions o;
  o.listen = ip + ":0";
  o.token = "e2e-token";
  HttpDaemon d(100, o);
  ASSERT_GT(d.port(), 0) << d.log();
  ASSERT_TRUE(d.wait_drained()) << d.log();
  EXPECT_EQ(status_line(get_from(ip, d.port(), "/api/stats", "")), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(status_line(get_from(ip, d.port(), "/", "Authorization: Bearer nope\r\n")),
            "HTTP/1.1 401 Unauthorized");
  std::string ok = get_from(ip, d.port(), "/api/stats", "Authorization: Bearer e2e-token\r\n");
  EXPECT_EQ(status_line(ok), "HTTP/1.1 200 OK") << ok;
  EXPECT_EQ(json::parse(HttpDaemon::body(ok))["streams"]["pin"]["read"],
            d.model().counters.at("pin").read);
  EXPECT_EQ(d.log().find("e2e-token"), std::string::npos);  // never logged
}

TEST(HttpApi, TheEventStreamAnnouncesEveryCommittedEpoch) {
  HttpDaemonOptions o;
  o.epoch_records = 400;
  o.input_later = true;
  HttpDaemon d(1500, o);
  ASSERT_GT(d.port(), 0) << d.log();
  int fd = connect_loopback(d.port());
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  auto read_some = [&] {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    ssize_t n = ::poll(&p, 1, 50) > 0 ? ::recv(fd, buf, sizeof buf, 0) : 0;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  };
  ASSERT_TRUE(wait_until([&] { return read_some(), got.find("event: epoch") != std::string::npos; },
                         std::chrono::seconds(10)))
      << got;
  d.release_input();
  ASSERT_TRUE(d.wait_drained()) << d.log();
  int64_t last = d.socket_stats()["epoch"].get<int64_t>();
  std::string want = "\"epoch\":" + std::to_string(last) + "}";
  EXPECT_TRUE(wait_until([&] { return read_some(), got.find(want) != std::string::npos; },
                         std::chrono::seconds(10)))
      << got;
  ::close(fd);
  std::vector<int64_t> epochs;
  static const std::regex re("data: \\{\"committed_at\":\"[^\"]*\",\"epoch\":(\\d+)\\}");
  for (std::sregex_iterator it(got.begin(), got.end(), re), end; it != end; ++it)
    epochs.push_back(std::stoll((*it)[1]));
  ASSERT_GE(epochs.size(), 2u) << got;
  EXPECT_GE(epochs.back() - epochs.front(), 3) << got;  // 4,500 records in epochs of 400
  for (size_t i = 1; i < epochs.size(); ++i) EXPECT_EQ(epochs[i], epochs[i - 1] + 1) << got;
  EXPECT_EQ(epochs.back(), last);
}

// Every metric name the Grafana dashboard's queries use (histogram series by their base).
std::set<std::string> grafana_metrics() {
  json dash = json::parse(read_file(source_dir() / "examples/grafana/pinstream.json"));
  std::set<std::string> names;
  static const std::regex re("\\b((?:pinstream|process)_[a-z_]+)");
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "expr" && v.is_string()) {
          std::string e = v.get<std::string>();
          for (std::sregex_iterator it(e.begin(), e.end(), re), end; it != end; ++it)
            names.insert((*it)[1]);
        } else {
          walk(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(dash);
  return names;
}

TEST(HttpApi, EveryMetricTheGrafanaDashboardUsesExists) {
  std::set<std::string> used = grafana_metrics();
  ASSERT_GE(used.size(), 8u);
  HttpDaemon d(300);
  ASSERT_GT(d.port(), 0) << d.log();
  ASSERT_TRUE(d.wait_drained()) << d.log();
  std::string r = d.get("/metrics");
  ASSERT_EQ(status_line(r), "HTTP/1.1 200 OK") << r;
  std::set<std::string> exposed;
  for (const std::string& line : lines_of(HttpDaemon::body(r))) {
    if (line.empty() || line[0] == '#') continue;
    exposed.insert(line.substr(0, line.find_first_of("{ ")));
  }
  for (const std::string& m : used) EXPECT_TRUE(exposed.count(m)) << m << " is not in /metrics";
}

}  // namespace
}  // namespace pinstream::testing
