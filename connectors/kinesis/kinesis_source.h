// The Kinesis source (SPEC section 8): reads every shard of the bound streams with
// GetRecords over the Kinesis JSON API (libcurl, SigV4), honouring ≤ 5 calls/s per shard,
// backing off with jitter on throttling and 5xx, re-acquiring expired iterators, and
// following resharding: a child shard starts only after all its parents are fully read.
// Positions are sequence numbers (decimal strings, never parsed) per "<stream>/<shardId>".
#pragma once

#include <memory>
#include <vector>

#include "connectors/source.h"

namespace pinstream::connectors::kinesis {

// Settings (`source.kinesis`), all optional:
//   endpoint                   Default: "" = https://kinesis.<region>.amazonaws.com
//   region                     Default: $AWS_REGION or us-east-1
//   start_timestamp_ms         Default: 0 = TRIM_HORIZON; else AT_TIMESTAMP for new shards
//   shard_refresh_interval_ms  Default: 10000 (periodic ListShards for new shards)
//   min_call_interval_ms       Default: 200 (GetRecords calls per shard ≤ 5/s)
//   backoff_base_ms            Default: 100; doubled per failure, with jitter
//   backoff_max_ms             Default: 5000
//   request_timeout_ms         Default: 30000
//   connect_timeout_ms         Default: 30000. How long the endpoint may stay unreachable
//                              (no answer, or 5xx): never reached since start, or lost during
//                              an --until-idle run, the run fails (exit 1) naming the endpoint.
// Per stream: stream (the Kinesis stream name). Credentials: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional) from the environment. InvalidArgument
// names the offending key.
core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings);

}  // namespace pinstream::connectors::kinesis
