// The request layer of the S3 store: addressing (path-style on a custom endpoint,
// virtual-hosted on AWS), SigV4 signing through the HTTP client (libcurl's
// CURLOPT_AWS_SIGV4, with the x-amz-content-sha256 header libcurl 7.88 wants from us),
// a small pool of keep-alive connections, bounded retries with exponential backoff and
// jitter, and S3 error answers turned into one-line Statuses carrying the S3 error code.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/aws/credentials.h"
#include "connectors/http/http_client.h"
#include "connectors/objstore/s3_file.h"
#include "stream/core/status.h"

namespace pinstream::connectors::objstore {

// Attempts per request before giving up (the first one included). With the backoff below
// a request gives up after about 3 s of failures.
inline constexpr int kMaxAttempts = 6;
inline constexpr std::chrono::milliseconds kBaseBackoff{100};
inline constexpr std::chrono::milliseconds kMaxBackoff{2000};

struct S3ClientConfig {
  std::string bucket;
  std::string region;    // Default: aws::region_from_environment()
  std::string endpoint;  // "http://host:port" for a custom endpoint; empty: AWS
  std::shared_ptr<aws::CredentialsProvider> credentials;  // Default: the standard chain
  int max_attempts = kMaxAttempts;
  std::chrono::milliseconds base_backoff = kBaseBackoff;
  long timeout_ms = 120000;  // per attempt; multipart parts are large
};

struct S3Call {
  std::string method = "GET";
  std::string key;  // full object key in the bucket; empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;
  const FileRange* file = nullptr;  // instead of `body`: bytes read from a file as they go
  bool want_headers = false;
  std::vector<long> also_accept;  // non-2xx statuses returned as answers, not errors
};

struct S3Answer {
  http::Response response;  // a 2xx answer
};

// What one client sent, for the log line at its end and the bench.
struct S3Totals {
  int64_t requests = 0, puts = 0, gets = 0, lists = 0, heads = 0, deletes = 0, posts = 0;
  int64_t retries = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  int64_t busy_micros = 0;  // summed over threads: time spent inside requests
};

class S3Client {
 public:
  explicit S3Client(S3ClientConfig config);
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;
  // Sends with retries. A 2xx answer is returned; anything else is an error Status:
  // NotFound (404 NoSuchKey), AlreadyExists (412), Unavailable (still failing after
  // max_attempts: 5xx, SlowDown, RequestTimeout, dropped connections), InvalidArgument
  // (NoSuchBucket, credentials or signature refused: configuration), IoError otherwise.
  // *attempts (when given) is set to the attempts made: >1 means an earlier attempt failed
  // and may still have landed (its answer lost).
  core::Result<S3Answer> call(const S3Call& call, int* attempts = nullptr);
  // "https://bucket.s3.region.amazonaws.com/key?query" or "endpoint/bucket/key?query".
  std::string url(const std::string& key, const std::string& query) const;
  // The error Status for a non-2xx answer (also used for errors inside 200 answers).
  core::Status error_for(const S3Call& call, long status, const std::string& body) const;
  const S3ClientConfig& config() const { return config_; }
  S3Totals totals() const;

 private:
  std::unique_ptr<http::Client> acquire();
  void release(std::unique_ptr<http::Client> client);
  void count(const S3Call& call, int attempt, uint64_t received, int64_t micros);

  S3ClientConfig config_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<http::Client>> idle_;  // keep-alive connections
  S3Totals totals_;                                  // under mu_
};

// S3's retryable error codes besides any 5xx answer.
bool retryable_s3_code(const std::string& code);

}  // namespace pinstream::connectors::objstore
