#include "connectors/kinesis/kinesis_api.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "connectors/http/http_client.h"
#include "stream/core/base64.h"

namespace pinstream::connectors::kinesis {
using json = nlohmann::json;

core::Status ApiError::to_status() const {
  switch (kind) {
    case ErrorKind::kNone:
      return core::Status::ok();
    case ErrorKind::kRetryable:
    case ErrorKind::kExpiredIterator:
      return core::Status::unavailable("Kinesis: " + message);
    case ErrorKind::kNotFound:
      return core::Status::not_found("Kinesis: " + message);
    case ErrorKind::kFatal:
      break;
  }
  return core::Status::io("Kinesis: " + message);
}

namespace {

// Classifies a non-2xx answer by HTTP status and the `__type` of its JSON body (which may
// carry a "namespace#" prefix).
ApiError classify(long status, const std::string& body) {
  std::string type, message;
  try {
    json j = json::parse(body);
    type = j.value("__type", "");
    message = j.value("message", j.value("Message", ""));
  } catch (const json::exception&) {
    message = body.substr(0, 200);
  }
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  ApiError e;
  e.message = type + ": " + message + " (HTTP " + std::to_string(status) + ")";
  if (status >= 500 || type == "ProvisionedThroughputExceededException" ||
      type == "LimitExceededException" || type == "ThrottlingException" ||
      type == "KMSThrottlingException" || type == "InternalFailure" ||
      type == "ServiceUnavailable") {
    e.kind = ErrorKind::kRetryable;
  } else if (type == "ExpiredIteratorException") {
    e.kind = ErrorKind::kExpiredIterator;
  } else if (type == "ResourceNotFoundException") {
    e.kind = ErrorKind::kNotFound;
  } else {
    e.kind = ErrorKind::kFatal;
  }
  return e;
}

ApiError fatal(std::string message) { return {ErrorKind::kFatal, std::move(message)}; }

ShardInfo shard_from_json(const json& s) {
  ShardInfo info;
  info.shard_id = s.value("ShardId", "");
  if (auto p = s.find("ParentShardId"); p != s.end() && p->is_string()) info.parent = *p;
  if (auto p = s.find("AdjacentParentShardId"); p != s.end() && p->is_string())
    info.adjacent_parent = *p;
  if (auto r = s.find("SequenceNumberRange"); r != s.end() && r->is_object()) {
    auto end = r->find("EndingSequenceNumber");
    info.closed = end != r->end() && end->is_string();
  }
  return info;
}

}  // namespace

struct Api::Impl {
  ApiConfig config;
  std::string url;
  http::SigV4 sign;
  http::Client client;
  http::Response response;
  simdjson::ondemand::parser parser;
  std::vector<std::string> headers = {"Content-Type: application/x-amz-json-1.1", ""};

  std::shared_ptr<aws::CredentialsProvider> credentials;

  // The provider renews temporary credentials before they expire; the signer takes the
  // current ones for each call.
  ApiError refresh_credentials(const std::string& action) {
    auto creds = credentials->get();
    if (!creds) {
      const bool retry = creds.error().code() == core::StatusCode::kUnavailable;
      return {retry ? ErrorKind::kRetryable : ErrorKind::kFatal,
              action + ": no AWS credentials: " + creds.error().message(), retry};
    }
    sign.access_key = std::move(creds->access_key_id);
    sign.secret_key = std::move(creds->secret_access_key);
    sign.session_token = std::move(creds->session_token);
    return {};
  }

  // POSTs one action; on success the answer is in `response.body`.
  ApiError post(const std::string& action, const std::string& body) {
    if (ApiError e = refresh_credentials(action); !e.ok()) return e;
    headers[1] = "X-Amz-Target: Kinesis_20131202." + action;
    core::Status st = client.post_into(url, headers, body, response, config.timeout_ms, &sign);
    if (!st.is_ok()) return {ErrorKind::kRetryable, action + ": " + st.message(), true};
    if (response.status / 100 == 2) return {};
    ApiError e = classify(response.status, response.body);
    e.message = action + ": " + e.message;
    e.no_answer = response.status >= 500;
    return e;
  }
};

Api::Api(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Api::~Api() = default;
const std::string& Api::endpoint() const { return impl_->url; }

core::Result<std::unique_ptr<Api>> Api::create(ApiConfig config) {
  auto impl = std::make_unique<Impl>();
  if (config.region.empty()) config.region = aws::region_from_environment();
  if (!config.access_key.empty() && !config.secret_key.empty()) {
    impl->credentials =
        aws::static_credentials({config.access_key, config.secret_key, config.session_token,
                                 std::nullopt, "configuration"});
  } else {
    impl->credentials = config.credentials ? config.credentials : aws::default_credentials_chain();
  }
  // Fail at start, with what was tried, rather than at the first call.
  if (auto creds = impl->credentials->get(); !creds) {
    return core::Status(creds.error().code(),
                        "Kinesis needs AWS credentials (AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, ECS or the EC2 "
                        "instance profile): " +
                            creds.error().message());
  }
  impl->url = config.endpoint.empty() ? "https://kinesis." + config.region + ".amazonaws.com/"
                                      : config.endpoint;
  if (impl->url.back() != '/') impl->url += '/';
  impl->sign.provider = "aws:amz:" + config.region + ":kinesis";
  impl->config = std::move(config);
  return std::unique_ptr<Api>(new Api(std::move(impl)));
}

ApiError Api::call(const std::string& action, const std::string& body, std::string* answer) {
  ApiError e = impl_->post(action, body);
  if (e.ok() && answer) *answer = impl_->response.body;
  return e;
}

ApiError Api::list_shards(const std::string& stream, std::vector<ShardInfo>& out) {
  out.clear();
  std::string token;
  do {
    json req = {{"MaxResults", 1000}};
    if (token.empty())
      req["StreamName"] = stream;
    else
      req["NextToken"] = token;
    ApiError e = impl_->post("ListShards", req.dump());
    if (!e.ok()) return e;
    try {
      json j = json::parse(impl_->response.body);
      for (const auto& s : j.at("Shards")) out.push_back(shard_from_json(s));
      auto next = j.find("NextToken");
      token = next != j.end() && next->is_string() ? next->get<std::string>() : "";
    } catch (const json::exception& ex) {
      return fatal(std::string("ListShards: unreadable answer: ") + ex.what());
    }
  } while (!token.empty());
  return {};
}

ApiError Api::get_shard_iterator(const std::string& stream, const std::string& shard,
                                 const std::string& type, const std::string& sequence,
                                 std::string& iterator, double timestamp_seconds) {
  json req = {{"StreamName", stream}, {"ShardId", shard}, {"ShardIteratorType", type}};
  if (!sequence.empty()) req["StartingSequenceNumber"] = sequence;
  if (type == "AT_TIMESTAMP") req["Timestamp"] = timestamp_seconds;
  ApiError e = impl_->post("GetShardIterator", req.dump());
  if (!e.ok()) return e;
  try {
    iterator = json::parse(impl_->response.body).at("ShardIterator").get<std::string>();
  } catch (const json::exception& ex) {
    return fatal(std::string("GetShardIterator: unreadable answer: ") + ex.what());
  }
  return {};
}

ApiError Api::create_stream(const std::string& stream, int shard_count) {
  json req = {{"StreamName", stream}, {"ShardCount", shard_count}};
  return impl_->post("CreateStream", req.dump());
}

ApiError Api::stream_status(const std::string& stream, std::string& status) {
  ApiError e = impl_->post("DescribeStreamSummary", json{{"StreamName", stream}}.dump());
  if (!e.ok()) return e;
  try {
    status = json::parse(impl_->response.body)
                 .at("StreamDescriptionSummary")
                 .at("StreamStatus")
                 .get<std::string>();
  } catch (const json::exception& ex) {
    return fatal(std::string("DescribeStreamSummary: unreadable answer: ") + ex.what());
  }
  return {};
}

// --- GetRecords (hot path: simdjson on-demand straight into the batch) and PutRecords ---
namespace od = simdjson::ondemand;

namespace {

void read_record(od::object rec, core::RawRecord& r) {
  bool have_data = false, have_seq = false;
  for (auto field : rec) {
    std::string_view key = field.unescaped_key();
    if (key == "Data") {
      std::string_view data = field.value().get_string();
      if (!core::base64_decode(data, r.bytes))
        throw std::runtime_error("a record's Data is not base64");
      have_data = true;
    } else if (key == "SequenceNumber") {
      std::string_view seq = field.value().get_string();
      r.position.assign(seq);
      have_seq = true;
    } else if (key == "ApproximateArrivalTimestamp") {
      double t = field.value().get_double();
      r.source_time_micros = static_cast<int64_t>(std::llround(t * 1e6));
    }
  }
  if (!have_data || !have_seq) throw std::runtime_error("a record lacks Data or SequenceNumber");
}

void read_child_shards(od::array arr, std::vector<ShardInfo>& out) {
  for (auto item : arr) {
    ShardInfo info;
    od::object child = item.get_object();
    for (auto field : child) {
      std::string_view key = field.unescaped_key();
      if (key == "ShardId") {
        info.shard_id = std::string(std::string_view(field.value().get_string()));
      } else if (key == "ParentShards") {
        od::array parents = field.value().get_array();
        for (auto p : parents) {
          std::string id(std::string_view(p.get_string()));
          if (info.parent.empty())
            info.parent = std::move(id);
          else
            info.adjacent_parent = std::move(id);
        }
      }
    }
    out.push_back(std::move(info));
  }
}

}  // namespace

ApiError Api::get_records(const std::string& iterator, size_t limit, uint32_t partition,
                          core::Batch& batch, GetRecordsResult& result) {
  result = GetRecordsResult{};
  std::string req = "{\"ShardIterator\":\"" + iterator +
                    "\",\"Limit\":" + std::to_string(std::clamp<size_t>(limit, 1, 10000)) + "}";
  ApiError e = impl_->post("GetRecords", req);
  if (!e.ok()) return e;
  std::string& body = impl_->response.body;
  size_t start = batch.size;
  try {
    simdjson::padded_string_view view(body.data(), body.size(), body.capacity());
    od::document doc = impl_->parser.iterate(view);
    od::object top = doc.get_object();
    for (auto field : top) {
      std::string_view key = field.unescaped_key();
      od::value value = field.value();
      if (value.is_null()) continue;  // kinesis-mock sends "ChildShards": null, for example
      if (key == "Records") {
        od::array records = value.get_array();
        for (auto rec : records) {
          core::RawRecord& r = batch.next();
          r.partition = partition;
          read_record(rec.get_object(), r);
        }
      } else if (key == "NextShardIterator") {
        result.next_iterator = std::string(std::string_view(value.get_string()));
      } else if (key == "MillisBehindLatest") {
        result.millis_behind_latest = value.get_int64();
      } else if (key == "ChildShards") {
        read_child_shards(value.get_array(), result.child_shards);
      }
    }
  } catch (const std::exception& ex) {
    batch.size = start;
    return {ErrorKind::kFatal, std::string("GetRecords: unreadable answer: ") + ex.what()};
  }
  result.count = batch.size - start;
  return {};
}

ApiError Api::put_records(const std::string& stream, const std::vector<PutEntry>& entries,
                          size_t begin, size_t end, std::vector<size_t>& failed) {
  failed.clear();
  std::string body = "{\"StreamName\":" + nlohmann::json(stream).dump() + ",\"Records\":[";
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) body += ',';
    body += "{\"PartitionKey\":";
    body += nlohmann::json(entries[i].partition_key).dump();
    body += ",\"Data\":\"";
    core::base64_encode(entries[i].data, body);
    body += "\"}";
  }
  body += "]}";
  ApiError e = impl_->post("PutRecords", body);
  if (!e.ok()) return e;
  try {
    auto j = nlohmann::json::parse(impl_->response.body);
    if (j.value("FailedRecordCount", 0) == 0) return {};
    const auto& results = j.at("Records");
    for (size_t i = 0; i < results.size() && begin + i < end; ++i)
      if (results[i].contains("ErrorCode")) failed.push_back(begin + i);
  } catch (const nlohmann::json::exception& ex) {
    return {ErrorKind::kFatal, std::string("PutRecords: unreadable answer: ") + ex.what()};
  }
  return {};
}

}  // namespace pinstream::connectors::kinesis
