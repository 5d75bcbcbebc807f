// A Kinesis PutRecords producer: buffers records per stream and sends them in calls of at
// most 500 records and 5 MiB (data + partition keys), retrying the entries the service
// rejected (throttling) and whole calls that fail retryably, with jittered back-off.
// Retried entries may land after later ones of the same key. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "connectors/kinesis/kinesis_api.h"
#include "stream/core/status.h"

namespace pinstream::connectors::kinesis {

struct ProducerOptions {
  ApiConfig api;                                // endpoint, region, credentials (env when empty)
  size_t max_batch_records = 500;               // Default: 500 (the PutRecords limit)
  size_t max_batch_bytes = 5u << 20;            // Default: 5 MiB (the PutRecords limit)
  int max_attempts = 20;                        // Default: 20 tries per entry before flush() fails
  std::chrono::milliseconds backoff_base{50};   // Default: 50 ms, doubled per failed try
  std::chrono::milliseconds backoff_max{2000};  // Default: 2000 ms
};

class Producer {
 public:
  // InvalidArgument without credentials.
  static core::Result<std::unique_ptr<Producer>> create(ProducerOptions options);
  // Buffers one record; sends the stream's batch once it is full. Errors as flush().
  core::Status put(const std::string& stream, std::string partition_key, std::string data);
  // Sends everything buffered. Unavailable when entries still fail after max_attempts,
  // IoError/NotFound when the service refuses the call outright.
  core::Status flush();
  uint64_t records_sent() const { return sent_; }
  uint64_t calls() const { return calls_; }
  Api& api() { return *api_; }

 private:
  struct Pending {
    std::vector<PutEntry> entries;
    size_t bytes = 0;
  };
  explicit Producer(ProducerOptions options, std::unique_ptr<Api> api);
  core::Status send(const std::string& stream, Pending& p);

  ProducerOptions options_;
  std::unique_ptr<Api> api_;
  std::map<std::string, Pending> pending_;
  std::mt19937_64 rng_;
  uint64_t sent_ = 0, calls_ = 0;
};

}  // namespace pinstream::connectors::kinesis
