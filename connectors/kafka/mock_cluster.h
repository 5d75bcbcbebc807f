// The development broker: librdkafka's mock cluster on loopback. It keeps data in memory,
// only about 5 MiB per partition (older data is dropped silently), and accepts but does
// not enforce transactions: for demos, tests and benches, never production.
#pragma once

#include <memory>
#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors::kafka {

class MockCluster {
 public:
  // Starts `brokers` mock brokers on 127.0.0.1 (ports chosen by librdkafka; 2.0 cannot bind
  // a given port: `pinstream broker --port` relays one). Internal when librdkafka cannot.
  static core::Result<std::unique_ptr<MockCluster>> start(int brokers = 1);
  ~MockCluster();
  // "127.0.0.1:port[,...]", for bootstrap.servers.
  std::string bootstrap_servers() const;
  // Pre-creates a topic (auto-created topics would get 4 partitions, and CreateTopics against
  // the mock times out). InvalidArgument when the mock refuses.
  core::Status create_topic(const std::string& topic, int partitions);
  // Fault injection for tests. Broker ids start at 1.
  core::Status set_broker_down(int broker_id, bool down);
  // The next `count` Fetch requests fail with NOT_LEADER_FOR_PARTITION (clients retry).
  core::Status push_fetch_errors(int count);
  // The next `count` requests of Kafka API `api_key` (0 Produce, 1 Fetch, 8 OffsetCommit,
  // ...) fail with Kafka error code `error_code` (e.g. 6 NOT_LEADER_FOR_PARTITION).
  core::Status push_request_errors(int api_key, int count, int error_code);

 private:
  MockCluster() = default;
  void* rk_ = nullptr;
  void* cluster_ = nullptr;
};

}  // namespace pinstream::connectors::kafka
