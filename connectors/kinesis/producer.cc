#include "connectors/kinesis/producer.h"

#include <algorithm>
#include <thread>

namespace pinstream::connectors::kinesis {

Producer::Producer(ProducerOptions options, std::unique_ptr<Api> api)
    : options_(std::move(options)), api_(std::move(api)), rng_(std::random_device{}()) {
  options_.max_batch_records = std::clamp<size_t>(options_.max_batch_records, 1, 500);
  options_.max_batch_bytes = std::clamp<size_t>(options_.max_batch_bytes, 1, 5u << 20);
}

core::Result<std::unique_ptr<Producer>> Producer::create(ProducerOptions options) {
  PS_ASSIGN_OR_RETURN(auto api, Api::create(options.api));
  return std::unique_ptr<Producer>(new Producer(std::move(options), std::move(api)));
}

core::Status Producer::put(const std::string& stream, std::string partition_key, std::string data) {
  Pending& p = pending_[stream];
  size_t size = partition_key.size() + data.size();
  if (!p.entries.empty() && (p.entries.size() >= options_.max_batch_records ||
                             p.bytes + size > options_.max_batch_bytes)) {
    PS_RETURN_IF_ERROR(send(stream, p));
  }
  p.entries.push_back({std::move(partition_key), std::move(data)});
  p.bytes += size;
  if (p.entries.size() >= options_.max_batch_records) return send(stream, p);
  return core::Status::ok();
}

core::Status Producer::flush() {
  for (auto& [stream, p] : pending_) {
    if (!p.entries.empty()) PS_RETURN_IF_ERROR(send(stream, p));
  }
  return core::Status::ok();
}

// Sends `p` as one call, then re-sends only the rejected entries until none are left.
core::Status Producer::send(const std::string& stream, Pending& p) {
  std::vector<size_t> failed;
  for (int attempt = 1;; ++attempt) {
    ++calls_;
    ApiError e = api_->put_records(stream, p.entries, 0, p.entries.size(), failed);
    if (e.ok() && failed.empty()) break;
    if (!e.ok() && e.kind != ErrorKind::kRetryable) return e.to_status();
    if (attempt >= options_.max_attempts) {
      return core::Status::unavailable("PutRecords still failing after " + std::to_string(attempt) +
                                       " tries: " + (e.ok() ? "entries rejected" : e.message));
    }
    if (e.ok()) {  // keep only the rejected entries, in order
      sent_ += p.entries.size() - failed.size();
      std::vector<PutEntry> retry;
      retry.reserve(failed.size());
      for (size_t i : failed) retry.push_back(std::move(p.entries[i]));
      p.entries = std::move(retry);
    }
    int64_t d = std::min<int64_t>(options_.backoff_max.count(), options_.backoff_base.count()
                                                                    << std::min(attempt, 20));
    std::uniform_int_distribution<int64_t> dist(d / 2, std::max<int64_t>(d, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng_)));
  }
  sent_ += p.entries.size();
  p.entries.clear();
  p.bytes = 0;
  return core::Status::ok();
}

}  // namespace pinstream::connectors::kinesis
