// Shared by the files source tests: a source built from a YAML snippet, and a drain loop.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/files/files_source.h"
#include "stream/core/config.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::files {
namespace {

using pinstream::testing::TempDir;
using pinstream::testing::write_file;

struct Fixture {
  core::ConfigNode root;
  std::vector<StreamBinding> bindings;
  std::unique_ptr<Source> source;
  core::Status error;

  Fixture(const std::string& yaml, std::vector<std::string> streams, size_t max_record_bytes = 0) {
    root = *core::parse_config_text(yaml, "test.yaml");
    const core::ConfigNode* s = root.find("streams");
    for (uint32_t i = 0; i < streams.size(); ++i)
      bindings.push_back({i, streams[i], s->find(streams[i]), max_record_bytes});
    auto built = make_source(bindings, root.find("settings"));
    if (built)
      source = std::move(built).value();
    else
      error = built.error();
  }
};

// Drains the source; returns "partition|position|bytes" per record in poll order.
inline std::vector<std::string> drain(Source& src, size_t max_per_poll = 3) {
  std::vector<std::string> out;
  core::Batch batch;
  for (int i = 0; i < 1000 && !(batch.size == 0 && i > 0 && src.drained()); ++i) {
    batch.clear();
    auto n = src.poll(batch, std::chrono::milliseconds(1), max_per_poll);
    EXPECT_TRUE(n.has_value());
    for (size_t k = 0; k < batch.size; ++k) {
      const auto& r = batch.records[k];
      out.push_back(src.partitions()[r.partition].id + "|" + r.position + "|" + r.bytes);
    }
  }
  return out;
}

}  // namespace
}  // namespace pinstream::connectors::files
