// A Kafka producer (librdkafka) for the emulator and tests: keyed messages, so records with
// the same key land in the same partition number of every topic (co-partitioning).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors::kafka {

class MskIamAuth;

class Producer {
 public:
  // `properties` are passed to librdkafka as they are (security.protocol, sasl.*, ...).
  // A non-empty `msk_iam_region` authenticates as `auth: msk-iam` does (msk_iam_auth.h),
  // with the credential chain. InvalidArgument for a bad property.
  static core::Result<std::unique_ptr<Producer>> create(
      const std::string& brokers, const std::map<std::string, std::string>& properties,
      const std::string& msk_iam_region = "");
  ~Producer();
  // Queues a message (waiting when the local queue is full). IoError on a fatal error.
  core::Status produce(const std::string& topic, const std::string& key, const std::string& value);
  // Waits for every queued message; IoError when any could not be delivered.
  core::Status flush(std::chrono::milliseconds timeout);

 private:
  Producer() = default;
  std::unique_ptr<MskIamAuth> auth_;  // outlives rk_ (destroyed in ~Producer)
  void* rk_ = nullptr;
  int64_t failed_ = 0;
  std::string last_error_;
  friend struct ProducerCallbacks;
};

}  // namespace pinstream::connectors::kafka
