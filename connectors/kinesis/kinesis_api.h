// The Kinesis JSON 1.1 API calls pinstream needs (ListShards, GetShardIterator, GetRecords,
// PutRecords, CreateStream for tools and tests), over the shared HTTP client and signed with
// libcurl's SigV4. Errors are classified so callers can back off (throttling, 5xx, network),
// re-acquire an iterator (expired) or give up (anything else). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/aws/credentials.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors::kinesis {

// Where and as whom to call. Credentials: the static keys when set here, else `credentials`,
// else the shared AWS chain (connectors/aws/credentials.h: environment, profile, web
// identity, ECS, IMDSv2), asked before every call so that temporary ones are renewed.
struct ApiConfig {
  std::string endpoint;              // Default: "" = https://kinesis.<region>.amazonaws.com
  std::string region = "us-east-1";  // "" = from the environment (aws::region_from_environment)
  std::string access_key, secret_key, session_token;
  std::shared_ptr<aws::CredentialsProvider> credentials;  // Default: the chain
  long timeout_ms = 30000;                                // per HTTP call
};

enum class ErrorKind {
  kNone,
  kRetryable,        // throttled (ProvisionedThroughputExceeded, LimitExceeded), 5xx, network
  kExpiredIterator,  // ExpiredIteratorException: get a new iterator and try again
  kNotFound,         // ResourceNotFoundException
  kFatal,            // any other 4xx, or an answer we cannot parse
};

struct ApiError {
  ErrorKind kind = ErrorKind::kNone;
  std::string message;     // "<__type>: <message> (HTTP n)"
  bool no_answer = false;  // the endpoint did not answer (network, timeout) or answered 5xx
  bool ok() const { return kind == ErrorKind::kNone; }
  core::Status to_status() const;
};

struct ShardInfo {
  std::string shard_id;
  std::string parent, adjacent_parent;  // empty when absent
  bool closed = false;                  // has an EndingSequenceNumber
};

struct GetRecordsResult {
  size_t count = 0;                          // records appended to the batch
  std::optional<std::string> next_iterator;  // absent: the shard is closed and fully read
  int64_t millis_behind_latest = 0;
  std::vector<ShardInfo> child_shards;  // sent by some servers when the shard ends
};

struct PutEntry {
  std::string partition_key;
  std::string data;  // raw bytes (encoded to base64 on the wire)
};

class Api {
 public:
  // Asks the credentials once: InvalidArgument when none are configured or a configured
  // source refuses, Unavailable when one cannot be reached.
  static core::Result<std::unique_ptr<Api>> create(ApiConfig config);
  ~Api();
  const std::string& endpoint() const;

  // All shards of `stream`, following NextToken pages.
  ApiError list_shards(const std::string& stream, std::vector<ShardInfo>& out);
  // `type` is TRIM_HORIZON, LATEST, AFTER_SEQUENCE_NUMBER or AT_SEQUENCE_NUMBER (with
  // `sequence`), or AT_TIMESTAMP (with `timestamp_seconds`).
  ApiError get_shard_iterator(const std::string& stream, const std::string& shard,
                              const std::string& type, const std::string& sequence,
                              std::string& iterator, double timestamp_seconds = 0);
  // Appends up to `limit` records to `batch` (partition index `partition`, position = the
  // sequence number, bytes = decoded Data). On error nothing is appended.
  ApiError get_records(const std::string& iterator, size_t limit, uint32_t partition,
                       core::Batch& batch, GetRecordsResult& result);
  // One PutRecords call (≤ 500 entries, ≤ 5 MiB). `failed` receives the indices of entries
  // the service rejected (to retry); the call's own error is returned.
  ApiError put_records(const std::string& stream, const std::vector<PutEntry>& entries,
                       size_t begin, size_t end, std::vector<size_t>& failed);
  ApiError create_stream(const std::string& stream, int shard_count);
  // "ACTIVE", "CREATING", ... via DescribeStreamSummary.
  ApiError stream_status(const std::string& stream, std::string& status);
  // Any other action with a JSON body; the JSON answer goes to `answer`.
  ApiError call(const std::string& action, const std::string& body, std::string* answer);

 private:
  struct Impl;
  explicit Api(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinstream::connectors::kinesis
