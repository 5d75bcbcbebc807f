// `source.kafka.auth: msk-iam`: Kafka on Amazon MSK with IAM. Sets SASL_SSL + OAUTHBEARER
// and answers librdkafka's token refresh callback with the MSK IAM token
// (connectors/aws/msk_iam.h) made from the credential chain. librdkafka asks again at 80%
// of the token's lifetime; the lifetime is the token's 15 minutes, or less when the
// credentials behind it expire sooner. Refreshes run on librdkafka's background thread
// (SASL queue), so a token exists before the first poll. The token is never logged.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/aws/credentials.h"
#include "stream/core/status.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace pinstream::connectors::kafka {

using TokenRefreshCallback = void (*)(rd_kafka_t* rk, const char* oauthbearer_config, void* opaque);

class MskIamAuth {
 public:
  MskIamAuth(std::string region, std::shared_ptr<aws::CredentialsProvider> credentials,
             aws::Clock now = std::chrono::system_clock::now);

  // security.protocol=SASL_SSL, sasl.mechanism=OAUTHBEARER. InvalidArgument when
  // `properties:` already chose another protocol or mechanism.
  static core::Status apply_properties(std::map<std::string, std::string>& props);
  // Before rd_kafka_new: registers `callback` (whose job is to call refresh(rk)) and asks
  // for a SASL queue.
  static void prepare(rd_kafka_conf_t* conf, TokenRefreshCallback callback);
  // After rd_kafka_new: serves token refreshes on librdkafka's background thread.
  static core::Status start(rd_kafka_t* rk);

  // The refresh callback's work: sets a new token on `rk`, or reports why there is none
  // (librdkafka logs it and retries). Thread-safe.
  void refresh(rd_kafka_t* rk);

  int refreshes() const { return refreshes_; }
  int failures() const { return failures_; }
  int64_t last_expiry_ms() const { return last_expiry_ms_; }
  std::string last_token() const;  // for tests only

 private:
  std::string region_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  aws::Clock now_;
  std::atomic<int> refreshes_{0};
  std::atomic<int> failures_{0};
  std::atomic<int64_t> last_expiry_ms_{0};
  mutable std::mutex mu_;
  std::string last_token_;
};

}  // namespace pinstream::connectors::kafka
