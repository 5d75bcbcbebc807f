#include "connectors/objstore/s3_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "connectors/aws/sigv4.h"
#include "connectors/objstore/s3_store.h"
#include "tests/support/http_stub.h"

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

TEST(S3Client, ReusesOneKeepAliveConnectionAndSendsTheBodyHashAndToken) {
  testing::HttpStub stub(
      [](const testing::StubRequest&) {
        return testing::StubResponse{200, ""};
      },
      /*keep_alive=*/true);
  S3ClientConfig c;
  c.bucket = "b";
  c.region = "us-east-1";
  c.endpoint = stub.endpoint();
  c.credentials = aws::static_credentials({"AKID", "secret", "session-token", {}, "test"});
  auto store = make_s3_store(c, "p");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->put("k" + std::to_string(i), "body").is_ok());
  EXPECT_EQ(stub.connections(), 1);
  auto reqs = stub.requests();
  ASSERT_EQ(reqs.size(), 20u);
  EXPECT_EQ(reqs[0].target, "/b/p/k0");
  EXPECT_EQ(reqs[0].header("x-amz-content-sha256"), aws::sha256_hex("body"));
  EXPECT_EQ(reqs[0].header("x-amz-security-token"), "session-token");
  EXPECT_EQ(reqs[0].header("Expect"), "");  // never signed-but-unsent (see http_client.cc)
  EXPECT_NE(reqs[0].header("Authorization").find("Credential=AKID/"), std::string::npos);
}

TEST(S3Client, ServerErrorsAreRetriedThenSucceed) {
  std::atomic<int> n{0};  // written by the stub thread
  testing::HttpStub stub([&](const testing::StubRequest&) {
    return ++n <= 2 ? testing::StubResponse{500, "<Error><Code>InternalError</Code></Error>"}
                    : testing::StubResponse{200, "payload"};
  });
  S3ClientConfig c;
  c.bucket = "b";
  c.region = "us-east-1";
  c.endpoint = stub.endpoint();
  c.credentials = aws::static_credentials({"AKID", "secret", "", {}, "test"});
  c.base_backoff = std::chrono::milliseconds(1);
  auto got = make_s3_store(c, "")->get("k");
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace pinstream::connectors::objstore
