#include "connectors/objstore/s3_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

#include "connectors/aws/sigv4.h"
#include "connectors/aws/xml.h"

namespace pinstream::connectors::objstore {
namespace {

using core::Status;

constexpr size_t kMaxIdleConnections = 16;

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::chrono::milliseconds backoff(std::chrono::milliseconds base, int attempt) {
  auto delay = std::min(kMaxBackoff, base * (1 << std::min(attempt - 1, 10)));
  thread_local std::mt19937 rng{std::random_device{}()};
  // "Equal jitter": half fixed, half random, so retries of many writers spread out.
  std::uniform_int_distribution<long> jitter(0, std::max<long>(delay.count() / 2, 1));
  return std::chrono::milliseconds(delay.count() / 2 + jitter(rng));
}

}  // namespace

bool retryable_s3_code(const std::string& code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

S3Client::S3Client(S3ClientConfig config) : config_(std::move(config)) {
  if (config_.region.empty()) config_.region = aws::region_from_environment();
  if (!config_.credentials) config_.credentials = aws::default_credentials_chain();
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
}

std::string S3Client::url(const std::string& key, const std::string& query) const {
  std::string u = config_.endpoint.empty()
                      ? "https://" + config_.bucket + ".s3." + config_.region + ".amazonaws.com/"
                      : config_.endpoint + "/" + config_.bucket + (key.empty() ? "" : "/");
  u += aws::uri_encode(key, true);
  if (!query.empty()) u += "?" + query;
  return u;
}

Status S3Client::error_for(const S3Call& call, long status, const std::string& body) const {
  std::string code = aws::xml_text(body, "Code");
  std::string message = one_line(aws::xml_text(body, "Message"));
  if (code.empty()) {  // HEAD answers carry no body
    code = status == 404   ? "NotFound"
           : status == 412 ? "PreconditionFailed"
           : status == 403 ? "AccessDenied"
                           : "HTTP" + std::to_string(status);
  }
  const std::string what = "S3 " + call.method + " s3://" + config_.bucket + "/" + call.key +
                           " failed: " + std::to_string(status) + " " + code +
                           (message.empty() ? "" : " (" + message + ")");
  if (code == "NoSuchBucket") {
    return Status::invalid(what + "; create the bucket or fix the s3:// URL");
  }
  if (status == 404) return Status::not_found(what);
  if (status == 412) return Status::exists(what);
  if (status >= 500 || retryable_s3_code(code)) return Status::unavailable(what);
  if (status == 400 || status == 401 || status == 403) {
    return Status::invalid(what + "; check the AWS credentials, region and endpoint");
  }
  return Status::io(what);
}

core::Result<S3Answer> S3Client::call(const S3Call& c, int* attempts) {
  std::vector<std::string> headers = c.headers;
  headers.push_back("x-amz-content-sha256: " +
                    (c.file ? c.file->sha256_hex : aws::sha256_hex(c.body)));
  http::Request req;
  req.method = c.method;
  req.url = url(c.key, aws::canonical_query(c.query));
  req.body = c.body;
  if (c.file) set_file_body(req, *c.file);
  req.timeout_ms = config_.timeout_ms;
  req.want_headers = c.want_headers;
  http::SigV4 sign;
  sign.provider = "aws:amz:" + config_.region + ":s3";
  Status last;
  bool unreachable = false;  // the last failure was the connection, not an S3 answer
  for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(backoff(config_.base_backoff, attempt - 1));
    // Asked at each attempt: the chain renews temporary credentials before they expire.
    PS_ASSIGN_OR_RETURN(aws::Credentials creds, config_.credentials->get());
    sign.access_key = creds.access_key_id;
    sign.secret_key = creds.secret_access_key;
    sign.session_token = creds.session_token;
    req.headers = headers;
    req.sign = &sign;
    if (attempts) *attempts = attempt;
    S3Answer answer;
    auto client = acquire();
    const auto started = std::chrono::steady_clock::now();
    Status sent = client->send(req, answer.response);
    release(std::move(client));
    const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    count(c, attempt, answer.response.body.size(), micros);
    spdlog::trace("S3 request. method={} key={} status={} bytes_sent={} us={}", c.method, c.key,
                  answer.response.status, c.file ? c.file->size : c.body.size(), micros);
    unreachable = !sent.is_ok();
    if (unreachable) {
      last = Status::unavailable("S3 " + c.method + " s3://" + config_.bucket + "/" + c.key +
                                 " failed: " + sent.message());
      continue;
    }
    const long status = answer.response.status;
    if ((status >= 200 && status < 300) ||
        std::find(c.also_accept.begin(), c.also_accept.end(), status) != c.also_accept.end()) {
      return answer;
    }
    last = error_for(c, status, answer.response.body);
    if (last.code() != core::StatusCode::kUnavailable) return last;
  }
  return Status::unavailable(last.message() + " (after " + std::to_string(config_.max_attempts) +
                             (unreachable
                                  ? " attempts; check AWS_ENDPOINT_URL_S3 and the network)"
                                  : " attempts; S3 is throttling or failing, retry later)"));
}

void S3Client::count(const S3Call& c, int attempt, uint64_t received, int64_t micros) {
  std::lock_guard<std::mutex> lock(mu_);
  S3Totals& t = totals_;
  ++t.requests;
  if (attempt > 1) ++t.retries;
  const bool list = c.method == "GET" && !c.query.empty() && c.query[0].first == "list-type";
  ++(c.method == "PUT"      ? t.puts
     : list                 ? t.lists
     : c.method == "GET"    ? t.gets
     : c.method == "HEAD"   ? t.heads
     : c.method == "DELETE" ? t.deletes
                            : t.posts);
  t.bytes_sent += c.file ? c.file->size : c.body.size();
  t.bytes_received += received;
  t.busy_micros += micros;
}

S3Totals S3Client::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

std::unique_ptr<http::Client> S3Client::acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.empty()) return std::make_unique<http::Client>();
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void S3Client::release(std::unique_ptr<http::Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(client));
}

}  // namespace pinstream::connectors::objstore
