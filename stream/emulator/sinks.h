// Builds the emulator's sink by name (files, kafka, kafka-rest, kinesis).
#pragma once

#include <memory>
#include <string>

#include "stream/core/status.h"
#include "stream/emulator/sink.h"

namespace pinstream::runtime::emulator {

struct SinkSettings {
  std::string out;               // files: output root
  std::string brokers;           // kafka: bootstrap servers
  std::string rest_url;          // kafka-rest: proxy URL
  std::string kinesis_endpoint;  // kinesis: endpoint URL ("" = AWS for the region)
  std::string kinesis_region;    // kinesis: region ("" = $AWS_REGION or us-east-1)
  int partitions = 3;            // files: partitions per topic; kinesis: shards of a created stream
  std::string kafka_msk_iam_region;  // kafka: non-empty = authenticate as auth: msk-iam
};

// InvalidArgument for an unknown sink or a missing setting.
core::Result<std::unique_ptr<Sink>> make_sink(const std::string& kind, const SinkSettings& s);

}  // namespace pinstream::runtime::emulator
