// Raw consume rate of the Kafka source, for bench/kafka/run.sh (disabled in normal runs):
// reads topics <PINSTREAM_ID>.pin|geo|user from PINSTREAM_KAFKA to their end and prints
// records/s and MB/s. Nothing but the source is measured (no decoding, no state).
// KAFKA_PARTITIONS=all reads every partition without a group (source.kafka.partitions);
// otherwise the source joins a new consumer group. Times are also given from process start
// (a static initialiser's clock, before main) so that they compare with kcat's wall time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "connectors/kafka/kafka_source.h"
#include "stream/core/config.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka {
namespace {

const auto g_process_start = std::chrono::steady_clock::now();

TEST(KafkaConsumeRate, DISABLED_ReadsThePipelineTopicsToTheirEnd) {
  const char* bootstrap = std::getenv("PINSTREAM_KAFKA");
  const char* id = std::getenv("PINSTREAM_ID");
  ASSERT_TRUE(bootstrap && id) << "set PINSTREAM_KAFKA and PINSTREAM_ID";
  std::string yaml = std::string("settings: {bootstrap_servers: \"") + bootstrap +
                     "\", group_id: " + pinstream::testing::unique_name("bench");
  const char* mode = std::getenv("KAFKA_PARTITIONS");
  if (mode && *mode) yaml += std::string(", partitions: ") + mode;
  yaml += "}\nstreams:\n";
  const char* streams[] = {"pin", "geo", "user"};
  for (const char* s : streams)
    yaml += std::string("  ") + s + ": {topic: \"" + id + "." + s + "\"}\n";
  core::ConfigNode root = *core::parse_config_text(yaml, "bench.yaml");
  std::vector<StreamBinding> bindings;
  for (uint32_t i = 0; i < 3; ++i)
    bindings.push_back({i, streams[i], root.find("streams")->find(streams[i])});
  auto built = make_source(bindings, root.find("settings"));
  ASSERT_TRUE(built) << built.error().to_string();
  auto source = std::move(built).value();
  ASSERT_TRUE(source->open({}).is_ok());
  core::Batch batch;
  size_t records = 0, bytes = 0, first_batch = 0, first_bytes = 0;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point first{}, last{};
  while (true) {
    batch.clear();
    auto n = source->poll(batch, std::chrono::milliseconds(100), 10000);
    ASSERT_TRUE(n.has_value());
    if (*n && records == 0) {
      first = std::chrono::steady_clock::now();
      first_batch = *n;  // read before `first`: not in the rate
    }
    if (*n) last = std::chrono::steady_clock::now();  // the drained check's empty poll waits 100 ms
    records += *n;
    for (size_t k = 0; k < batch.size; ++k) bytes += batch.records[k].bytes.size();
    if (records == first_batch) first_bytes = bytes;
    if (*n == 0 && source->drained()) break;
    ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(5));
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double streaming = std::chrono::duration<double>(last - first).count();
  auto since_start = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(t - g_process_start).count();
  };
  std::printf(
      "pinstream kafka source (%s): %zu records, %.1f MB in %.2f s (%.2f s from the first record "
      "to the last): "
      "%.0f records/s, %.1f MB/s\n",
      mode && *mode ? mode : "group", records, static_cast<double>(bytes) / 1e6, total, streaming,
      static_cast<double>(records - first_batch) / streaming,
      static_cast<double>(bytes - first_bytes) / 1e6 / streaming);
  std::printf(
      "pinstream kafka source timeline: open %.3f s, first record %.3f s, last record %.3f s after "
      "process start\n",
      since_start(start), since_start(first), since_start(last));
}

}  // namespace
}  // namespace pinstream::connectors::kafka
