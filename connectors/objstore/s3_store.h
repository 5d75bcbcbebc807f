// The S3 ObjectStore over S3Client (s3_client.h): GET with ranges, HEAD, PUT (multipart
// above a threshold, aborted on failure), conditional PUT with If-None-Match: *,
// DELETE and DeleteObjects in batches of 1000, ListObjectsV2 with continuation.
#pragma once

#include <memory>
#include <string>

#include "connectors/objstore/object_store.h"
#include "connectors/objstore/s3_client.h"

namespace pinstream::connectors::objstore {

// Keys DeleteObjects accepts per request.
inline constexpr size_t kDeleteBatch = 1000;

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
};

// "s3://bucket/some/prefix/" -> {bucket, "some/prefix"}. InvalidArgument when malformed.
core::Result<S3Location> parse_s3_url(const std::string& url);

// Uses config.bucket; the region, endpoint and credentials default from the environment
// (AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, the chain).
std::unique_ptr<ObjectStore> make_s3_store(S3ClientConfig config, std::string prefix,
                                           const StoreOptions& options = {});

}  // namespace pinstream::connectors::objstore
