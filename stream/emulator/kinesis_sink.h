// The emulator's Kinesis sink: records go to the Kinesis stream of their topic through the
// PutRecords producer (batches of ≤ 500 / 5 MiB, partition key = ind, throttled entries
// retried). Topic "<id>.<stream>" maps to the stream name the default pipeline reads,
// "streaming-<id>-<stream>"; missing streams can be created (handy on a fresh emulator).
#pragma once

#include <memory>
#include <string>

#include "stream/core/status.h"
#include "stream/emulator/sink.h"

namespace pinstream::runtime::emulator {

struct KinesisSinkSettings {
  std::string endpoint;         // Default: "" = https://kinesis.<region>.amazonaws.com
  std::string region;           // Default: "" = $AWS_REGION or us-east-1
  bool create_streams = false;  // create a missing stream with `shards` shards, wait ACTIVE
  int shards = 3;
};

// "pinterest.pin" -> "streaming-pinterest-pin" (as examples/pinterest/pipeline.yaml).
std::string kinesis_stream_for_topic(const std::string& topic);

// InvalidArgument without AWS credentials in the environment.
core::Result<std::unique_ptr<Sink>> make_kinesis_sink(const KinesisSinkSettings& settings);

}  // namespace pinstream::runtime::emulator
