#include "stream/query/http_api.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "stream/core/time.h"
#include "stream/query/answer.h"
#include "stream/query/web_assets.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kDefaultDeadLetters = 20;
constexpr size_t kMaxDeadLetters = 1000;
// The page talks to this server only (no CDN, no third-party requests) and is not framed.
constexpr const char* kPagePolicy =
    "Content-Security-Policy: default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'\r\nX-Frame-Options: DENY\r\n";

HttpReply json_reply(int status, std::string body) {
  return HttpReply{status, kJson, std::move(body) + "\n", "", false};
}

HttpReply error_reply(ErrorCode code, const std::string& message, std::string extra = "") {
  return HttpReply{http_status(code), kJson, error_json(code, message) + "\n", std::move(extra),
                   false};
}

// A string as the socket's JSON request would carry it (invalid UTF-8 replaced).
std::string as_in_json(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

HttpReply view(const std::string& name, const http::Request& req, const QueryContext& ctx) {
  std::string format = "json";
  ViewRequest request{as_in_json(name), {}};
  for (const auto& [k, v] : req.query) {
    if (k == "format")
      format = v;
    else
      request.params[as_in_json(k)] = as_in_json(v);
  }
  if (format != "json" && format != "csv")
    return error_reply(ErrorCode::kBadRequest, "format must be json or csv, not '" + format + "'");
  if (format == "json") {
    auto line = view_json(request, ctx);
    if (!line) return error_reply(view_error_code(line.error()), line.error().message());
    return json_reply(200, std::move(line).value());
  }
  auto answer = query_view(request, ctx);
  if (!answer) return error_reply(view_error_code(answer.error()), answer.error().message());
  std::string disposition = "Content-Disposition: attachment; filename=\"" + name + ".csv\"\r\n";
  return HttpReply{200, "text/csv; charset=utf-8", answer_csv(*answer), std::move(disposition),
                   false};
}

// A member's own partials of a view (handler.h partials_line), for its peers.
HttpReply partials(const std::string& name, const http::Request& req, const QueryContext& ctx) {
  ViewRequest request{as_in_json(name), {}};
  for (const auto& [k, v] : req.query) request.params[as_in_json(k)] = as_in_json(v);
  // A peer holding this member's shares of an epoch asks with it: unchanged until a commit.
  auto asked = req.headers.find("if-none-match");
  if (asked != req.headers.end() && ctx.views) {
    CommittedView v = ctx.committed();
    if (v.reader && asked->second == "\"" + std::to_string(v.epoch) + "\"" &&
        ctx.views->source_of(request.view, request.params))
      return HttpReply{304, "", "", "", false};
  }
  auto line = partials_line(request, ctx);
  if (!line) return error_reply(view_error_code(line.error()), line.error().message());
  return json_reply(200, std::move(line).value());
}

// An answer computed at most once per epoch (tables, dead letters): they read files.
std::string per_epoch(const QueryContext& ctx, const std::string& key,
                      const std::function<std::string(const CommittedView&)>& compute) {
  CommittedView v = ctx.committed();
  std::string cached;
  const std::string full_key = std::string("\x01http\x01") + key;
  if (ctx.cache && ctx.cache->get(v.epoch, full_key, cached)) return cached;
  std::string answer = compute(v);
  if (ctx.cache) ctx.cache->put(v.epoch, full_key, answer);
  return answer;
}

HttpReply dead_letters(const http::Request& req, const QueryContext& ctx) {
  size_t limit = kDefaultDeadLetters;
  auto it = req.query.find("limit");
  if (it != req.query.end()) {
    const std::string& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
    if (ec != std::errc() || p != s.data() + s.size() || limit > kMaxDeadLetters)
      return error_reply(ErrorCode::kBadParams,
                         "limit must be a number from 0 to " + std::to_string(kMaxDeadLetters));
  }
  if (!ctx.dead_letters) return json_reply(200, R"({"ok":true,"by_reason":[],"samples":[]})");
  return json_reply(200, per_epoch(ctx, "dead/" + std::to_string(limit),
                                   [&](const CommittedView&) { return ctx.dead_letters(limit); }));
}

HttpReply api(const http::Request& req, const QueryContext& ctx) {
  const std::string& p = req.path;
  if (p == "/api/views") return json_reply(200, views_json(ctx));
  if (p.rfind("/api/views/", 0) == 0 && p.size() > 11 && p.find('/', 11) == std::string::npos)
    return view(p.substr(11), req, ctx);
  if (p == "/api/stats") return json_reply(200, stats_json(ctx));
  if (p.rfind("/api/partials/", 0) == 0 && p.size() > 14 && p.find('/', 14) == std::string::npos)
    return partials(p.substr(14), req, ctx);
  if (p == "/api/tables") {
    if (!ctx.tables) return json_reply(200, R"({"ok":true,"tables":[]})");
    return json_reply(200, per_epoch(ctx, "tables", ctx.tables));
  }
  if (p == "/api/checkpoints") {
    if (!ctx.checkpoints) return json_reply(200, R"({"ok":true,"checkpoints":[]})");
    return json_reply(200, per_epoch(ctx, "checkpoints",
                                     [&](const CommittedView&) { return ctx.checkpoints(); }));
  }
  if (p == "/api/dead-letters") return dead_letters(req, ctx);
  if (p == "/api/events") return HttpReply{200, "", "", "", true};
  return error_reply(ErrorCode::kNotFound, "no such path: " + p);
}

bool authorized(const http::Request& req, const std::string& token) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end()) return false;
  std::string_view v = it->second;
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() < kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i])))
      return false;
  return http::constant_time_equal(v.substr(kBearer.size()), token);
}

}  // namespace

HttpReply route_http(const http::Request& req, const QueryContext& ctx, const std::string& token,
                     bool require_token) {
  if (require_token && (token.empty() || !authorized(req, token)))
    return error_reply(ErrorCode::kUnauthorized, "this server needs Authorization: Bearer <token>",
                       "WWW-Authenticate: Bearer realm=\"pinstream\"\r\n");
  if (req.method != "GET" && req.method != "HEAD")
    return error_reply(ErrorCode::kMethodNotAllowed, req.method + " is not allowed here; use GET",
                       "Allow: GET, HEAD\r\n");
  try {
    if (const WebAsset* a = find_web_asset(req.path))
      return HttpReply{200, std::string(a->content_type), std::string(a->data), kPagePolicy, false};
    if (req.path == "/metrics") {
      std::string text =
          ctx.metrics ? ctx.metrics() : metrics_text(ctx.committed(), ctx.started_at_micros);
      return HttpReply{200, "text/plain; version=0.0.4", std::move(text), "", false};
    }
    if (req.path.rfind("/api/", 0) == 0) return api(req, ctx);
    return error_reply(ErrorCode::kNotFound, "no such path: " + req.path);
  } catch (const std::exception& e) {
    return error_reply(ErrorCode::kInternal, e.what());
  }
}

std::string epoch_event(int64_t epoch, int64_t committed_at_micros) {
  json j = {
      {"epoch", epoch},
      {"committed_at", committed_at_micros ? core::format_timestamp(committed_at_micros) : ""}};
  return "event: epoch\ndata: " + j.dump() + "\n\n";
}

std::string events_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
         "X-Content-Type-Options: nosniff\r\n\r\nretry: 2000\n\n";
}

}  // namespace pinstream::runtime
