#include "connectors/kafka/msk_iam_auth.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/aws/msk_iam.h"

namespace pinstream::connectors::kafka {

MskIamAuth::MskIamAuth(std::string region, std::shared_ptr<aws::CredentialsProvider> credentials,
                       aws::Clock now)
    : region_(std::move(region)), credentials_(std::move(credentials)), now_(std::move(now)) {}

core::Status MskIamAuth::apply_properties(std::map<std::string, std::string>& props) {
  for (const auto& [key, want] :
       {std::pair<std::string, std::string>{"security.protocol", "SASL_SSL"},
        {"sasl.mechanism", "OAUTHBEARER"}}) {
    auto it = props.find(key);
    if (it != props.end() && it->second != want) {
      return core::Status::invalid("source.kafka.auth: msk-iam needs " + key + "=" + want +
                                   ", but properties set it to " + it->second +
                                   ": remove it from properties");
    }
    props[key] = want;
  }
  return core::Status::ok();
}

void MskIamAuth::prepare(rd_kafka_conf_t* conf, TokenRefreshCallback callback) {
  rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, callback);
  rd_kafka_conf_enable_sasl_queue(conf, 1);
}

core::Status MskIamAuth::start(rd_kafka_t* rk) {
  if (rd_kafka_error_t* e = rd_kafka_sasl_background_callbacks_enable(rk)) {
    std::string m = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return core::Status::internal("cannot serve MSK IAM token refreshes: " + m);
  }
  return core::Status::ok();
}

void MskIamAuth::refresh(rd_kafka_t* rk) {
  auto creds = credentials_->get();
  if (!creds.has_value()) {
    ++failures_;
    rd_kafka_oauthbearer_set_token_failure(rk, creds.error().message().c_str());
    return;
  }
  const auto now = now_();
  aws::MskToken t = aws::msk_iam_token(*creds, region_, now);
  if (creds->expiration) {  // the presigned URL is worth no more than its credentials
    const int64_t creds_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(creds->expiration->time_since_epoch())
            .count();
    t.expiry_ms = std::min(t.expiry_ms, creds_ms);
  }
  char err[512];
  if (rd_kafka_oauthbearer_set_token(rk, t.token.c_str(), t.expiry_ms, "pinstream", nullptr, 0, err,
                                     sizeof err) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++failures_;
    rd_kafka_oauthbearer_set_token_failure(rk, err);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_token_ = t.token;
  }
  last_expiry_ms_ = t.expiry_ms;
  ++refreshes_;
  spdlog::debug("MSK IAM token refreshed. region={} source={} expiry_ms={}", region_, creds->source,
                t.expiry_ms);
}

std::string MskIamAuth::last_token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_token_;
}

}  // namespace pinstream::connectors::kafka
