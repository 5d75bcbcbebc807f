// An S3 emulator for tests: s3rver (npm, installed by scripts/setup into .tools/node) on a
// free loopback port over a fresh temp directory, with the buckets asked for, stopped on
// destruction. s3rver knows the access key S3RVER (secret S3RVER) and refuses others
// (InvalidAccessKeyId), lists (ListObjectsV2 with continuation), deletes in batches and does
// multipart uploads. It does NOT verify SigV4 signatures (only V2 ones), nor do conditional
// PUT (If-None-Match) or faults: S3FaultProxy (s3_fault_proxy.h) in front of it does those,
// and records requests so a test can check their signatures independently (botocore).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace pinstream::testing {

class S3Emulator {
 public:
  // Returns nullptr (with the reason in *error) when s3rver did not come up.
  static std::unique_ptr<S3Emulator> start(const std::vector<std::string>& buckets,
                                           std::string* error);
  ~S3Emulator();
  S3Emulator(const S3Emulator&) = delete;
  S3Emulator& operator=(const S3Emulator&) = delete;
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& directory() const { return dir_.path(); }
  // Creates another bucket (an anonymous PUT, which s3rver accepts). Returns success.
  bool create_bucket(const std::string& name);

 private:
  S3Emulator() = default;
  TempDir dir_{"pinstream-s3rver"};
  pid_t pid_ = -1;
  int port_ = 0;
};

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY = S3RVER, AWS_REGION us-east-1, and
// AWS_ENDPOINT_URL_S3 = `endpoint` (path-style requests); no session token.
void set_s3rver_environment(const std::string& endpoint);

}  // namespace pinstream::testing
