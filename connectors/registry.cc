#include "connectors/registry.h"

#include "connectors/files/files_source.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/kinesis/kinesis_source.h"

namespace pinstream::connectors {

void register_builtin(Registry& registry) {
  registry.add_source("files", &files::make_source);
  registry.add_source("kafka", &kafka::make_source);
  registry.add_source("kinesis", &kinesis::make_source);
}

}  // namespace pinstream::connectors
