#include "connectors/kafka/end_offsets.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pinstream::connectors::kafka {
using core::Status;
using Clock = std::chrono::steady_clock;

namespace {

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 1, INT32_MAX));
}

Status unanswered(const std::string& what, rd_kafka_resp_err_t e, const std::string& servers) {
  return Status::unavailable("cannot fix the end positions for --available-now: " + what +
                             " not answered by Kafka at " + servers + " (" + rd_kafka_err2str(e) +
                             "); check that the brokers are up");
}

}  // namespace

core::Result<std::map<std::string, int64_t>> query_high_watermarks(
    rd_kafka_t* rk, const std::map<std::string, uint32_t>& topics,
    std::chrono::milliseconds timeout, const std::string& servers) {
  const Clock::time_point deadline = Clock::now() + timeout;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, nullptr, &md, ms_left(deadline));
  if (e) return unanswered("metadata", e, servers);
  std::map<std::string, int32_t> counts;  // topic -> partitions
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topics.count(t.topic) && !t.err) counts[t.topic] = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  std::map<std::string, int64_t> ends;
  for (const auto& [topic, stream] : topics) {
    auto it = counts.find(topic);
    if (it == counts.end()) {
      spdlog::warn("Kafka topic unknown to the cluster; nothing of it is read. topic={}", topic);
      continue;
    }
    for (int32_t p = 0; p < it->second; ++p) {
      int64_t lo = 0, hi = 0;
      e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, ms_left(deadline));
      if (e)
        return unanswered("the high watermark of " + topic + "/" + std::to_string(p), e, servers);
      ends[topic + "/" + std::to_string(p)] = hi;
    }
  }
  return ends;
}

}  // namespace pinstream::connectors::kafka
