// Helpers for the Kinesis integration tests: build a source from YAML, create streams and
// wait until ACTIVE, put records and remember where they went, consume until drained.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "connectors/kinesis/kinesis_api.h"
#include "connectors/kinesis/kinesis_source.h"
#include "stream/core/base64.h"
#include "stream/core/config.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace kin = connectors::kinesis;

// A record as it was put (shard, sequence number, bytes) or as it was delivered.
struct KRecord {
  std::string partition;  // "<stream>/<shardId>"
  std::string seq;
  std::string bytes;
  bool operator==(const KRecord&) const = default;
};
inline void PrintTo(const KRecord& r, std::ostream* os) {
  *os << r.partition << "@" << r.seq << " (" << r.bytes.size() << " bytes)";
}

// Decimal strings compare by length, then digits (sequence numbers are never parsed).
inline bool seq_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// A source over `streams` (stream i reads Kinesis stream streams[i]), listing shards every
// `refresh_ms`. The process aborts the test (PS_CHECK) when the source cannot be built.
struct BuiltSource {
  core::ConfigNode config;
  std::unique_ptr<connectors::Source> source;
};

inline std::unique_ptr<BuiltSource> build_source(const std::string& endpoint,
                                                 const std::vector<std::string>& streams,
                                                 int refresh_ms = 500,
                                                 const std::string& extra_settings = "") {
  std::string yaml = "settings:\n  endpoint: " + endpoint +
                     "\n  shard_refresh_interval_ms: " + std::to_string(refresh_ms) +
                     "\n  backoff_base_ms: 20\n  backoff_max_ms: 200\n" + extra_settings +
                     "streams:\n";
  for (size_t i = 0; i < streams.size(); ++i)
    yaml += "  s" + std::to_string(i) + ": {stream: " + streams[i] + "}\n";
  auto cfg = core::parse_config_text(yaml, "test.yaml");
  EXPECT_TRUE(cfg.has_value()) << cfg.status().to_string();
  auto built = std::make_unique<BuiltSource>();
  built->config = std::move(*cfg);
  const core::ConfigNode* ss = *built->config.get("streams");
  std::vector<connectors::StreamBinding> bindings;
  for (size_t i = 0; i < streams.size(); ++i)
    bindings.push_back(
        {static_cast<uint32_t>(i), "s" + std::to_string(i), *ss->get("s" + std::to_string(i))});
  auto source = kin::make_source(bindings, *built->config.get("settings"));
  PS_CHECK(source.has_value(), source.error().to_string());
  built->source = std::move(source).value();
  return built;
}

inline std::unique_ptr<kin::Api> make_api(const std::string& endpoint) {
  kin::ApiConfig c;
  c.endpoint = endpoint;
  auto api = kin::Api::create(c);
  EXPECT_TRUE(api.has_value()) << api.status().to_string();
  return std::move(*api);
}

inline void wait_active(kin::Api& api, const std::string& stream) {
  std::string status;
  ASSERT_TRUE(
      wait_until([&] { return api.stream_status(stream, status).ok() && status == "ACTIVE"; },
                 std::chrono::seconds(30), std::chrono::milliseconds(50)))
      << stream << " is " << status;
}

inline void create_stream(kin::Api& api, const std::string& stream, int shards) {
  kin::ApiError e = api.create_stream(stream, shards);
  ASSERT_TRUE(e.ok()) << e.message;
  wait_active(api, stream);
}

// PutRecord; returns where the record landed.
inline KRecord put_record(kin::Api& api, const std::string& stream, const std::string& key,
                          const std::string& bytes) {
  std::string data;
  core::base64_encode(bytes, data);
  nlohmann::json req = {{"StreamName", stream}, {"PartitionKey", key}, {"Data", data}};
  std::string answer;
  kin::ApiError e;
  for (int i = 0; i < 50; ++i) {  // kinesis-local may throttle
    e = api.call("PutRecord", req.dump(), &answer);
    if (e.kind != kin::ErrorKind::kRetryable) break;
  }
  EXPECT_TRUE(e.ok()) << e.message;
  if (!e.ok()) return {};
  auto j = nlohmann::json::parse(answer);
  return {stream + "/" + j.at("ShardId").get<std::string>(),
          j.at("SequenceNumber").get<std::string>(), bytes};
}

// Polls until drained() (after at least `min_records`), or the deadline.
inline std::vector<KRecord> consume(connectors::Source& src, size_t min_records,
                                    std::chrono::milliseconds deadline = std::chrono::seconds(60),
                                    size_t max_per_poll = 1000) {
  std::vector<KRecord> got;
  core::Batch batch;
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    batch.clear();
    auto n = src.poll(batch, std::chrono::milliseconds(100), max_per_poll);
    EXPECT_TRUE(n.has_value()) << n.status().to_string();
    if (!n) break;
    for (size_t i = 0; i < batch.size; ++i) {
      const auto& r = batch.records[i];
      got.push_back({src.partitions().at(r.partition).id, r.position, r.bytes});
    }
    if (got.size() >= min_records && batch.size == 0 && src.drained()) break;
  }
  return got;
}

// Checks `got` holds every record of `want` exactly once, and in sequence order per shard.
inline void expect_exactly_once_in_order(const std::vector<KRecord>& got,
                                         const std::vector<KRecord>& want) {
  std::map<std::string, std::vector<KRecord>> by_shard;
  for (const auto& r : got) by_shard[r.partition].push_back(r);
  std::map<std::string, std::vector<KRecord>> want_by_shard;
  for (const auto& r : want) want_by_shard[r.partition].push_back(r);
  for (auto& [shard, rs] : want_by_shard)
    std::sort(rs.begin(), rs.end(),
              [](const KRecord& a, const KRecord& b) { return seq_less(a.seq, b.seq); });
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [shard, rs] : want_by_shard) EXPECT_EQ(by_shard[shard], rs) << shard;
}

}  // namespace pinstream::testing
