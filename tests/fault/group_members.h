// What the scale-out fault tests (groups, handoff, peers) share: the default pipeline made a
// group of `tasks: partitions` members, and what a member's log says of its assignment.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/test_support.h"

namespace pinstream::testing {

// Replaces the first `from` in `yaml` by `to`; a test failure when `from` is absent (the
// default pipeline changed under the test).
inline void edit_yaml(std::string& yaml, const std::string& from, const std::string& to) {
  const size_t at = yaml.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the pipeline: " << from;
    return;
  }
  yaml.replace(at, from.size(), to);
}

// The default pipeline as members of one group run it: `tasks: partitions`, the group id
// from $TEST_GROUP, 200 ms epochs.
inline std::string group_pipeline_yaml() {
  std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
  edit_yaml(yaml, "  # tasks: partitions", "  tasks: partitions");
  edit_yaml(yaml, "    group_id: pinstream-${PINSTREAM_ID:-pinterest}\n",
            "    group_id: ${TEST_GROUP}\n");
  edit_yaml(yaml, "epoch_interval_ms: 1000", "epoch_interval_ms: 200");
  return yaml;
}

// The partitions count of the last assignment a member logged in `<log>.err` (-1: none yet).
inline int last_assigned(const std::filesystem::path& log) {
  const std::string text = read_file(log.string() + ".err"), key = "Kafka partitions assigned. ";
  size_t at = text.rfind(key);
  if (at == std::string::npos) return -1;
  at = text.find("count=", at);
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 6);
}

}  // namespace pinstream::testing
