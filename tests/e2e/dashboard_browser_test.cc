// The dashboard in a real browser: headless Chromium loads `/` from a daemon fed a few
// thousand posts, and the DOM it builds must hold every view's card with the socket's
// epoch and rows (as the page formats them) and the streams' counters. A screenshot is
// saved as <build dir>/dashboard.png. The same checks on the page with a broken script
// must fail: the test cannot pass on a page that draws nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/e2e/http_daemon.h"
#include "tests/support/http_stub.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(p)) return p;
  return "";
}

// Text as Chromium serializes a text node.
std::string html_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '\xc2' && i + 1 < s.size() && s[i + 1] == '\xa0')
      out += "&nbsp;", ++i;
    else
      out += c;
  }
  return out;
}

// A cell as app.js's fmt() draws it.
std::string cell(const json& v) {
  if (v.is_null()) return "<td></td>";
  if (v.is_string()) return "<td>" + html_text(v.get<std::string>()) + "</td>";
  if (v.is_boolean()) return std::string("<td>") + (v.get<bool>() ? "true" : "false") + "</td>";
  double d = v.get<double>();
  char buf[64];
  if (d != std::floor(d)) {
    std::snprintf(buf, sizeof buf, "%.2f", d);
    return std::string("<td class=\"num\">") + buf + "</td>";
  }
  std::string digits = std::to_string(static_cast<int64_t>(std::llabs(static_cast<long long>(d))));
  if (std::fabs(d) >= 10000)
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
      digits.insert(static_cast<size_t>(at), ",");
  return std::string("<td class=\"num\">") + (d < 0 ? "-" : "") + digits + "</td>";
}

std::string dump_dom(const std::string& url, const fs::path& profile) {
  std::string out;
  run_command(chromium() + " --headless=new --no-sandbox --disable-gpu --user-data-dir='" +
                  profile.string() + "' --virtual-time-budget=15000 --dump-dom '" + url +
                  "' 2>/dev/null",
              &out, false);
  return out;
}

// The daemon's pages through a proxy that serves a broken app.js (and no event stream).
StubResponse broken_script_proxy(const StubRequest& req, int port) {
  if (req.target == "/assets/app.js") return {200, "throw new Error('broken on purpose');\n"};
  if (req.target == "/api/events") return {404, ""};
  std::string r = http_forward(port, "GET " + req.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  int status = r.size() > 12 ? std::atoi(r.c_str() + 9) : 502;
  return {status, HttpDaemon::body(r)};
}

// Everything the page must show; one line per thing missing.
std::vector<std::string> problems(const std::string& dom, const HttpDaemon& d) {
  std::vector<std::string> missing;
  for (const char* view : kDefaultViews) {
    json a = json::parse(d.socket_answer(view), nullptr, false);
    if (!a.is_object() || !a.value("ok", false)) {
      missing.push_back(std::string("socket has no answer for ") + view);
      continue;
    }
    std::string head = "<article class=\"card\" data-view=\"" + std::string(view) +
                       "\" data-epoch=\"" + std::to_string(a["epoch"].get<int64_t>()) +
                       "\" data-rows=\"" + std::to_string(a["rows"].size()) + "\">";
    size_t at = dom.find(head);
    if (at == std::string::npos) {
      missing.push_back("no card " + head);
      continue;
    }
    std::string card = dom.substr(at, dom.find("</article>", at) - at);
    if (card.find(">CSV</a>") == std::string::npos)
      missing.push_back(std::string("no CSV link in ") + view);
    for (const auto& row : a["rows"]) {
      std::string tr = "<tr>";
      for (const auto& v : row) tr += cell(v);
      tr += "</tr>";
      if (card.find(tr) == std::string::npos) missing.push_back(std::string(view) + " lacks " + tr);
    }
  }
  json s = d.socket_stats();
  for (const auto& [name, c] : s["streams"].items()) {
    std::string tr = "<tr><td>" + name + "</td>";
    for (const char* k : {"read", "clean", "dead", "duplicates", "late"}) tr += cell(c[k]);
    if (dom.find(tr) == std::string::npos) missing.push_back("streams table lacks " + tr);
  }
  if (dom.find("<td>pin</td><td class=\"num\">") == std::string::npos)
    missing.push_back("no tables");
  // Dead letters by reason: the model's input has some.
  size_t reasons = dom.find("<table id=\"dead-reasons\"");
  if (reasons == std::string::npos ||
      dom.substr(reasons, dom.find("</table>", reasons) - reasons).find("<tr><td>") ==
          std::string::npos)
    missing.push_back("no dead letters by reason");
  return missing;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 20; ++i) out += lines[i] + "\n";
  return out;
}

TEST(Dashboard, ChromiumDrawsEveryViewWithTheSocketsNumbersAndTheCounters) {
  if (chromium().empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup installs it)";
  HttpDaemon d(3000);
  ASSERT_GT(d.port(), 0) << d.log();
  ASSERT_TRUE(d.wait_drained()) << d.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port()) + "/";
  TempDir profile("ps-chromium");
  std::string dom = dump_dom(url, profile.path() / "on");
  std::vector<std::string> found = problems(dom, d);
  EXPECT_TRUE(found.empty()) << found.size() << " problems:\n"
                             << joined(found) << dom.substr(0, 2000);
  // The checks can fail: the same page with a broken script draws no card and no counter.
  HttpStub proxy([&](const StubRequest& req) { return broken_script_proxy(req, d.port()); });
  std::string bare = dump_dom(proxy.endpoint() + "/", profile.path() / "off");
  ASSERT_NE(bare.find("<table id=\"streams\""), std::string::npos) << bare.substr(0, 500);
  EXPECT_GE(problems(bare, d).size(), 11u);
  const fs::path shot = pinstream_binary().parent_path() / "dashboard.png";
  fs::remove(shot);
  std::string out;
  run_command(chromium() +
                  " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='" +
                  (profile.path() / "shot").string() +
                  "' --virtual-time-budget=15000 --window-size=1280,2000 " + "--screenshot='" +
                  shot.string() + "' '" + url + "' 2>/dev/null",
              &out, false);
  ASSERT_TRUE(fs::exists(shot)) << out;
  EXPECT_GT(fs::file_size(shot), 20000u);
}

}  // namespace
}  // namespace pinstream::testing
