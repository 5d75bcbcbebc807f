// Shared by the Kafka integration tests: a mock cluster with the three topics of a pipeline,
// and a source built from YAML as the pipeline builds it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/mock_cluster.h"
#include "stream/core/config.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::kafka::testing {

inline const char* const kStreams[] = {"pin", "geo", "user"};

// A mock cluster with the three topics "<id>.pin|geo|user" of `partitions` partitions.
struct Cluster {
  std::unique_ptr<MockCluster> mock;
  std::string id;
  explicit Cluster(int partitions = 3, const std::string& prefix = "kt")
      : id(pinstream::testing::unique_name(prefix)) {
    auto m = MockCluster::start(1);
    EXPECT_TRUE(m.has_value());
    mock = std::move(*m);
    for (const char* s : kStreams) EXPECT_TRUE(mock->create_topic(topic(s), partitions).is_ok());
  }
  std::string topic(const char* stream) const { return id + "." + stream; }
};

// The source of `settings` (YAML lines under `settings:` after bootstrap_servers, each
// indented by two spaces) over the cluster's three topics; `error` when it is refused.
struct SourceUnderTest {
  core::ConfigNode root;
  std::vector<StreamBinding> bindings;
  std::unique_ptr<Source> source;
  core::Status error;

  SourceUnderTest(const Cluster& c, const std::string& settings) {
    std::string yaml = "settings:\n  bootstrap_servers: \"" + c.mock->bootstrap_servers() + "\"\n" +
                       settings + "streams:\n";
    for (const char* s : kStreams)
      yaml += std::string("  ") + s + ": {topic: \"" + c.topic(s) + "\"}\n";
    root = *core::parse_config_text(yaml, "test.yaml");
    for (uint32_t i = 0; i < 3; ++i)
      bindings.push_back({i, kStreams[i], root.find("streams")->find(kStreams[i])});
    auto built = make_source(bindings, root.find("settings"));
    if (built)
      source = std::move(built).value();
    else
      error = built.error();
  }
};

}  // namespace pinstream::connectors::kafka::testing
