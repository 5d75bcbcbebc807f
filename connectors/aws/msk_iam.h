// The MSK IAM authentication token for SASL/OAUTHBEARER: a SigV4 query-presigned
// `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect` (service
// "kafka-cluster"), with a User-Agent parameter added after signing, encoded base64url
// without padding, as the AWS MSK IAM SASL signer libraries make it. libcurl signs
// headers, not query strings, so this presign is ours. Pure function; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "connectors/aws/credentials.h"

namespace pinstream::connectors::aws {

inline constexpr int kMskTokenExpirySeconds = 900;  // X-Amz-Expires, as the AWS signers use
inline constexpr const char* kMskUserAgent = "pinstream-msk-iam-signer/1.0";

struct MskToken {
  std::string token;      // base64url (no padding) of the presigned URL
  int64_t expiry_ms = 0;  // signing time + X-Amz-Expires, in ms since the Unix epoch
};

MskToken msk_iam_token(const Credentials& credentials, const std::string& region,
                       std::chrono::system_clock::time_point now,
                       const std::string& user_agent = kMskUserAgent);

// The presigned URL before base64 (for tests and debugging; it holds a session token).
std::string msk_iam_signed_url(const Credentials& credentials, const std::string& region,
                               std::chrono::system_clock::time_point now,
                               const std::string& user_agent = kMskUserAgent);

}  // namespace pinstream::connectors::aws
