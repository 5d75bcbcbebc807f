// Where the emulator posts records: S3-sink files, a Kafka topic, a Kafka REST proxy.
// Topic of a record: "<id>.<stream>" (Kafka, files). One sink per emulator run.
#pragma once

#include <memory>
#include <string>

#include "stream/core/status.h"
#include "stream/emulator/generator.h"

namespace pinstream::runtime::emulator {

class Sink {
 public:
  virtual ~Sink() = default;
  // Posts `record` (keyed by its ind) to `topic` ("<id>.pin", ...). May buffer.
  virtual core::Status send(const std::string& topic, const Record& record) = 0;
  // Waits until everything sent so far is durable/delivered.
  virtual core::Status flush() = 0;
};

// The partition librdkafka's default (consistent_random) partitioner gives the key
// std::to_string(ind): CRC-32 of the key modulo `partitions`. The files sink uses it too, so a
// post lands in the same partition number whichever sink carried it.
int partition_of(int64_t ind, int partitions);

// Kafka-Connect S3-sink layout under `root`: topics/<topic>/partition=<p>/<topic>+<p>+<start>.json
// (NDJSON), p = partition_of(ind, partitions), a new file every `roll_records` records per
// partition. send() returns IoError when a file cannot be created; flush() when writing failed.
std::unique_ptr<Sink> make_files_sink(const std::string& root, int partitions,
                                      int64_t roll_records = 10000);
// A Confluent REST proxy v2: POST <url>/topics/<topic> (application/vnd.kafka.json.v2+json),
// batched, keyed by ind.
std::unique_ptr<Sink> make_kafka_rest_sink(const std::string& url);

}  // namespace pinstream::runtime::emulator
