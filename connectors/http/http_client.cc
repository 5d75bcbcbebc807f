#include "connectors/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace pinstream::connectors::http {
namespace {

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

size_t collect_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue or a redirect)
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    headers->emplace_back(std::move(name), trim(line.substr(colon + 1)));
  }
  return size * n;
}

// The state of a body read through Request::body_reader during one transfer.
struct BodyStream {
  const Request* req;
  uint64_t offset = 0;
  core::Status failed;
};

size_t read_body(char* buffer, size_t size, size_t n, void* user) {
  auto* b = static_cast<BodyStream*>(user);
  const uint64_t left = b->req->body_size - b->offset;
  if (left == 0) return 0;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * n));
  auto got = b->req->body_reader(b->offset, buffer, want);
  if (!got.has_value() || *got == 0 || *got > want) {
    b->failed =
        got.has_value()
            ? core::Status::io("request body ended " + std::to_string(left) + " bytes early")
            : got.error();
    return CURL_READFUNC_ABORT;
  }
  b->offset += *got;
  return *got;
}

int seek_body(void* user, curl_off_t offset, int origin) {
  auto* b = static_cast<BodyStream*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > b->req->body_size)
    return CURL_SEEKFUNC_CANTSEEK;
  b->offset = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

Client::Client() {
  global_init();
  curl_ = curl_easy_init();
}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

core::Result<Response> Client::post(const std::string& url, const std::vector<std::string>& headers,
                                    const std::string& body, long timeout_ms, const SigV4* sign) {
  Response r;
  PS_RETURN_IF_ERROR(post_into(url, headers, body, r, timeout_ms, sign));
  return r;
}

core::Status Client::post_into(const std::string& url, const std::vector<std::string>& headers,
                               const std::string& body, Response& r, long timeout_ms,
                               const SigV4* sign) {
  Request req;
  req.method = "POST";
  req.url = url;
  req.headers = headers;
  req.body = body;
  req.timeout_ms = timeout_ms;
  req.sign = sign;
  return send(req, r);
}

namespace {

// The request's method, and its body from memory or from `req.body_reader` via `stream`.
void set_method_and_body(CURL* c, const Request& req, BodyStream& stream) {
  const bool bodyless = req.method == "GET" || req.method == "HEAD" || req.method == "DELETE";
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (!bodyless && req.body_reader) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);  // no POSTFIELDS: the body comes from READFUNCTION
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &stream);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &stream);
  } else if (!bodyless) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
}

}  // namespace

core::Status Client::send(const Request& req, Response& r) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return core::Status::internal("curl_easy_init failed");
  // Reset keeps the live connection, DNS and TLS session caches: the connection is reused.
  curl_easy_reset(c);
  r.status = 0;
  r.body.clear();
  r.headers.clear();
  curl_slist* list = nullptr;
  for (const auto& h : req.headers) list = curl_slist_append(list, h.c_str());
  // No 100-continue round trip for large bodies. Not when signing: libcurl 7.88 puts the
  // suppressed "expect" header into SignedHeaders though it never sends it, and AWS then
  // refuses the signature (found by checking our S3 requests with botocore). Signed large
  // bodies get libcurl's own unsigned "Expect: 100-continue", which AWS answers at once.
  if (!req.sign) list = curl_slist_append(list, "Expect:");
  std::string token_header;
  if (req.sign && !req.sign->session_token.empty()) {
    token_header = "x-amz-security-token: " + req.sign->session_token;
    list = curl_slist_append(list, token_header.c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  BodyStream stream{&req, 0, core::Status::ok()};
  set_method_and_body(c, req, stream);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  if (req.want_headers) {
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  std::string userpwd;
  if (req.sign) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req.sign->provider.c_str());
    userpwd = req.sign->access_key + ":" + req.sign->secret_key;
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc == CURLE_ABORTED_BY_CALLBACK && !stream.failed.is_ok()) {
    return core::Status(stream.failed.code(),
                        "HTTP " + req.method + " " + req.url + ": " + stream.failed.message());
  }
  if (rc != CURLE_OK) {
    return core::Status::unavailable("HTTP " + req.method + " " + req.url + ": " +
                                     curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.body.reserve(r.body.size() + kBodyPadding);
  return core::Status::ok();
}

}  // namespace pinstream::connectors::http
