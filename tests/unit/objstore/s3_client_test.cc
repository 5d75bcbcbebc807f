#include "connectors/objstore/s3_client.h"

#include <gtest/gtest.h>

#include "connectors/objstore/s3_store.h"

namespace pinstream::connectors::objstore {
namespace {

S3Client client(const std::string& endpoint) {
  S3ClientConfig c;
  c.bucket = "my-bucket";
  c.region = "eu-west-1";
  c.endpoint = endpoint;
  c.credentials = aws::static_credentials({"AKID", "secret", "", {}, "test"});
  return S3Client(c);
}

TEST(S3Url, ParsesBucketAndPrefix) {
  auto loc = parse_s3_url("s3://my-bucket/tables/prod/");
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "tables/prod");
  EXPECT_EQ(parse_s3_url("s3://my-bucket")->prefix, "");
  EXPECT_FALSE(parse_s3_url("s3://").has_value());
  EXPECT_FALSE(parse_s3_url("http://x/y").has_value());
}

TEST(S3Client, VirtualHostedOnAwsPathStyleOnACustomEndpoint) {
  EXPECT_EQ(client("").url("t/dt=1/a b.json", "x=1"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/t/dt%3D1/a%20b.json?x=1");
  EXPECT_EQ(client("http://127.0.0.1:9000/").url("k", ""), "http://127.0.0.1:9000/my-bucket/k");
  EXPECT_EQ(client("http://127.0.0.1:9000").url("", "list-type=2"),
            "http://127.0.0.1:9000/my-bucket?list-type=2");
}

TEST(S3Client, ErrorsCarryTheS3CodeAndAreClassified) {
  auto c = client("");
  S3Call call;
  call.method = "PUT";
  call.key = "t/k";
  auto err = [&](long status, const std::string& code) {
    return c.error_for(call, status,
                       "<Error><Code>" + code + "</Code><Message>It says\nso.</Message></Error>");
  };
  core::Status s = err(404, "NoSuchBucket");
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("404 NoSuchBucket (It says so.)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_EQ(err(404, "NoSuchKey").code(), core::StatusCode::kNotFound);
  EXPECT_EQ(err(412, "PreconditionFailed").code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(err(503, "SlowDown").code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(err(400, "RequestTimeout").code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(err(500, "InternalError").code(), core::StatusCode::kUnavailable);
  s = err(403, "SignatureDoesNotMatch");
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("S3 PUT s3://my-bucket/t/k failed: 403 SignatureDoesNotMatch"),
            std::string::npos);
  EXPECT_EQ(c.error_for(call, 404, "").code(), core::StatusCode::kNotFound);  // HEAD: no body
  EXPECT_EQ(err(409, "OperationAborted").code(), core::StatusCode::kIoError);
}

}  // namespace
}  // namespace pinstream::connectors::objstore
