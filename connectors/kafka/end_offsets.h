// Where each partition of the subscribed topics ends when an --available-now run starts:
// its high watermark (the next offset to be written), asked of each partition's leader.
// The partitions come from the cluster's metadata, not the group's assignment, so the ends
// are fixed before the first poll even while the assignment is still on its way; a
// partition created later has no end and is not read in this run.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors::kafka {

// Partition id ("topic/partition") -> high watermark, for every partition of `topics`.
// Unavailable naming the servers when the metadata or a watermark is not answered within
// `timeout`; a topic the cluster does not know has no partitions (logged).
core::Result<std::map<std::string, int64_t>> query_high_watermarks(
    rd_kafka_t* rk, const std::map<std::string, uint32_t>& topics,
    std::chrono::milliseconds timeout, const std::string& servers);

}  // namespace pinstream::connectors::kafka
