#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "connectors/http/http_client.h"
#include "stream/emulator/sink.h"

namespace pinstream::runtime::emulator {
namespace {

// The proxy's JSON embedded format can only carry JSON values: a malformed record (not JSON,
// invalid UTF-8) travels as a JSON string holding its text, which cleaning rejects alike.
std::string value_of(const std::string& record) {
  if (nlohmann::json::accept(record)) return record;
  return nlohmann::json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Batches records per topic and POSTs them as {"records":[{"key":"<ind>","value":{...}}]}.
class KafkaRestSink final : public Sink {
 public:
  static constexpr size_t kBatchRecords = 500;
  explicit KafkaRestSink(std::string url) : url_(std::move(url)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }
  core::Status send(const std::string& topic, const Record& r) override {
    auto& batch = batches_[topic];
    batch.push_back("{\"key\":\"" + std::to_string(r.ind) + "\",\"value\":" + value_of(r.json) +
                    "}");
    if (batch.size() >= kBatchRecords) return post(topic, batch);
    return core::Status::ok();
  }
  core::Status flush() override {
    for (auto& [topic, batch] : batches_)
      if (!batch.empty()) PS_RETURN_IF_ERROR(post(topic, batch));
    return core::Status::ok();
  }

 private:
  core::Status post(const std::string& topic, std::vector<std::string>& batch) {
    std::string body = "{\"records\":[";
    for (size_t i = 0; i < batch.size(); ++i) body += (i ? "," : "") + batch[i];
    body += "]}";
    for (int attempt = 0;; ++attempt) {
      auto resp = client_.post(url_ + "/topics/" + topic,
                               {"Content-Type: application/vnd.kafka.json.v2+json",
                                "Accept: application/vnd.kafka.v2+json"},
                               body);
      if (resp && resp->status / 100 == 2) break;
      bool retryable = !resp || resp->status >= 500 || resp->status == 429;
      if (attempt >= 4 || !retryable) {
        return resp ? core::Status::io("REST proxy answered " + std::to_string(resp->status) +
                                       ": " + resp->body.substr(0, 200))
                    : resp.error();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    }
    batch.clear();
    return core::Status::ok();
  }
  std::string url_;
  connectors::http::Client client_;
  std::map<std::string, std::vector<std::string>> batches_;
};

}  // namespace

std::unique_ptr<Sink> make_kafka_rest_sink(const std::string& url) {
  return std::make_unique<KafkaRestSink>(url);
}

}  // namespace pinstream::runtime::emulator
