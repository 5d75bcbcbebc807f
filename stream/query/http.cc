#include "stream/query/http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pinstream::runtime::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Splits the target into path and query parameters; false when an escape is malformed.
bool split_target(Request& req) {
  if (req.target.empty() || req.target[0] != '/') return false;
  size_t q = req.target.find('?');
  if (!url_decode(std::string_view(req.target).substr(0, q), req.path, false)) return false;
  if (req.path.find('\0') != std::string::npos) return false;
  if (q == std::string::npos) return true;
  std::string_view rest = std::string_view(req.target).substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string k, v;
    if (!url_decode(pair.substr(0, eq), k, true)) return false;
    if (eq != std::string_view::npos && !url_decode(pair.substr(eq + 1), v, true)) return false;
    req.query[k] = v;
  }
  return true;
}

// The request line: METHOD SP target SP HTTP/1.x.
int parse_request_line(std::string_view line, Request& req) {
  size_t a = line.find(' ');
  size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos || a == 0) return 400;
  std::string_view method = line.substr(0, a), version = line.substr(b + 1);
  if (!std::all_of(method.begin(), method.end(), is_token_char)) return 400;
  if (version.rfind("HTTP/", 0) != 0) return 400;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return 505;
  req.method = std::string(method);
  req.target = std::string(line.substr(a + 1, b - a - 1));
  req.keep_alive = version == "HTTP/1.1";
  if (!split_target(req)) return 400;
  return 0;
}

int parse_headers(std::string_view head, Request& req) {
  while (!head.empty()) {
    size_t nl = head.find("\r\n");
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 2);
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return 400;
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return 400;
    std::string_view value = trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return 400;
    std::string key = lower(name);
    if (req.headers.count(key) && (key == "content-length" || key == "host")) return 400;
    req.headers[key] = std::string(value);
  }
  auto conn = req.headers.find("connection");
  if (conn != req.headers.end()) {
    std::string v = lower(conn->second);
    if (v.find("close") != std::string::npos)
      req.keep_alive = false;
    else if (v.find("keep-alive") != std::string::npos)
      req.keep_alive = true;
  }
  return 0;
}

}  // namespace

Parse parse_request(std::string_view buf, const Limits& limits, Request& req, size_t& consumed,
                    int& status) {
  // Tolerate the empty lines a client may send between requests (RFC 9112 section 2.2).
  size_t skip = 0;
  while (skip + 1 < buf.size() && buf[skip] == '\r' && buf[skip + 1] == '\n') skip += 2;
  size_t end = buf.find("\r\n\r\n", skip);
  if (end == std::string_view::npos) {
    if (buf.size() > limits.max_head_bytes) return status = 431, Parse::kError;
    // A request line that is already malformed need not wait for the rest.
    size_t nl = buf.find("\r\n", skip);
    if (nl != std::string_view::npos) {
      Request probe;
      int st = parse_request_line(buf.substr(skip, nl - skip), probe);
      if (st) return status = st, Parse::kError;
    }
    return Parse::kNeedMore;
  }
  if (end > limits.max_head_bytes) return status = 431, Parse::kError;
  req = Request();
  std::string_view head = buf.substr(skip, end - skip);
  size_t nl = head.find("\r\n");
  int st = parse_request_line(head.substr(0, nl), req);
  if (!st && nl != std::string_view::npos) st = parse_headers(head.substr(nl + 2), req);
  if (st) return status = st, Parse::kError;
  if (req.headers.count("transfer-encoding")) return status = 501, Parse::kError;
  size_t body = 0;
  auto cl = req.headers.find("content-length");
  if (cl != req.headers.end()) {
    const std::string& v = cl->second;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), body);
    if (ec != std::errc() || p != v.data() + v.size()) return status = 400, Parse::kError;
    if (body > limits.max_body_bytes) return status = 413, Parse::kError;
  }
  if (buf.size() - end - 4 < body) return Parse::kNeedMore;
  req.body = std::string(buf.substr(end + 4, body));
  consumed = end + 4 + body;
  return Parse::kDone;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string response(int status, std::string_view content_type, std::string_view body,
                     bool keep_alive, std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n";
  out.append(extra_headers);
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

bool url_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      unsigned v = 0;
      auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
      if (ec != std::errc() || p != in.data() + i + 3) return false;
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret enough to hide; the content is compared without early exit.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

core::Status split_listen_address(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    return core::Status::invalid("'" + listen + "' is not host:port (e.g. 127.0.0.1:8080)");
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty())
    return core::Status::invalid("'" + listen + "' has no host (e.g. 127.0.0.1:8080)");
  std::string p = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535)
    return core::Status::invalid("'" + listen + "' has no valid port (0-65535)");
  return core::Status::ok();
}

bool is_loopback_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return false;
  bool all = true;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      all = all && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      all = all && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    } else {
      all = false;
    }
  }
  ::freeaddrinfo(res);
  return all;
}

}  // namespace pinstream::runtime::http
