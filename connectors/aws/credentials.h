// AWS credentials from the standard provider chain, shared by S3, Kinesis and MSK IAM:
// environment variables, then AWS_PROFILE (or "default") in the shared credentials/config
// files, then web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN via STS
// AssumeRoleWithWebIdentity), then the ECS container endpoint, then EC2 IMDSv2. The first
// source that has credentials is kept; its temporary credentials are fetched again
// kRefreshMargin before they expire. Secrets never appear in a Status message or a log line.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors::aws {

using Clock = std::function<std::chrono::system_clock::time_point()>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;                                        // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // none: never expires
  std::string source;  // "environment", "profile <name>", "web identity", "ecs", "imds"
};

// Temporary credentials are renewed this long before they expire (the AWS SDKs use 5-15
// minutes; an MSK token made just before renewal stays valid for its own 15 minutes).
inline constexpr std::chrono::minutes kRefreshMargin{5};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials. Thread-safe. InvalidArgument when no source is configured (the
  // message lists what was tried) or a configured source refuses (e.g. the STS error code);
  // Unavailable when a source could not be reached (retryable).
  virtual core::Result<Credentials> get() = 0;
};

// The standard chain, reading the environment at each fetch. `now` is injectable for tests.
std::shared_ptr<CredentialsProvider> default_credentials_chain(
    Clock now = std::chrono::system_clock::now);

// Fixed credentials (tests, or keys given in configuration).
std::shared_ptr<CredentialsProvider> static_credentials(Credentials credentials);

// AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in the config file,
// else "us-east-1".
std::string region_from_environment();

}  // namespace pinstream::connectors::aws
