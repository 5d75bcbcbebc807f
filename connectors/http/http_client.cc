#include "connectors/http/http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace pinstream::connectors::http {
namespace {

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

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
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return core::Status::internal("curl_easy_init failed");
  // Reset keeps the live connection, DNS and TLS session caches: the connection is reused.
  curl_easy_reset(c);
  r.status = 0;
  r.body.clear();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
  std::string token_header;
  if (sign && !sign->session_token.empty()) {
    token_header = "x-amz-security-token: " + sign->session_token;
    list = curl_slist_append(list, token_header.c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  std::string userpwd;
  if (sign) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sign->provider.c_str());
    userpwd = sign->access_key + ":" + sign->secret_key;
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    return core::Status::unavailable(std::string("HTTP POST ") + url + ": " +
                                     curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.body.reserve(r.body.size() + kBodyPadding);
  return core::Status::ok();
}

}  // namespace pinstream::connectors::http
