// The Kafka source (SPEC section 8): a librdkafka consumer in a consumer group with manual
// offsets. Positions (last consumed offset per "topic/partition") live in our epoch commit
// and are sought on assignment; after each epoch the next offsets are also committed to
// Kafka so that lag tools see progress. Cooperative-sticky assignment; batched consumption
// from the consumer queue; partition EOF tells --until-idle when the topics are drained.
#pragma once

#include <memory>
#include <vector>

#include "connectors/source.h"

namespace pinstream::connectors::kafka {

// settings (`source.kafka`): bootstrap_servers, group_id, properties: {librdkafka props}.
// Per stream: topic. InvalidArgument names the offending key.
core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings);

}  // namespace pinstream::connectors::kafka
