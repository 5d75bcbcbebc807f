// The S3 store under faults injected by the proxy (503 SlowDown, resets mid-body after the
// request landed), racing conditional writers, and the configuration errors a user meets
// first: wrong credentials, a missing bucket, an unreachable endpoint.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/objstore/s3_env.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::objstore {
namespace {

using testing::ProxiedRequest;
using testing::S3Fault;

// Restores a fault-free proxy when the test ends.
struct FaultScope {
  explicit FaultScope(testing::S3FaultProxy::Decide d) { s3_env().proxy->set_decide(std::move(d)); }
  ~FaultScope() { s3_env().proxy->set_decide(nullptr); }
};

bool is_object_request(const ProxiedRequest& r, const std::string& method, const std::string& key) {
  return r.method == method && r.target.find(key) != std::string::npos;
}

TEST(S3Faults, SlowDownAndResetsAreRetriedUntilTheAnswerArrives) {
  const std::string prefix = testing::unique_name("retry");
  auto store = proxied_store(prefix);
  ASSERT_TRUE(store->put("obj", std::string(100000, 'r')).is_ok());
  auto before = s3_env().proxy->injected();
  std::atomic<int> gets{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    if (!is_object_request(r, "GET", prefix + "/obj")) return S3Fault::none();
    int n = ++gets;
    if (n <= 2) return S3Fault::slow_down();
    if (n == 3) return S3Fault::reset_mid_body();
    if (n == 4) return S3Fault::delay(50);
    return S3Fault::none();
  });
  auto got = store->get("obj");
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(*got, std::string(100000, 'r'));
  auto after = s3_env().proxy->injected();
  EXPECT_EQ(after["SlowDown"] - before["SlowDown"], 2);
  EXPECT_EQ(after["Reset"] - before["Reset"], 1);
  EXPECT_EQ(gets.load(), 4);
}

TEST(S3Faults, RetriesAreBoundedAndSayHowManyAttempts) {
  const std::string prefix = testing::unique_name("bounded");
  auto store = proxied_store(prefix);
  FaultScope faults([&](const ProxiedRequest& r) {
    return r.target.find(prefix) != std::string::npos ? S3Fault::slow_down() : S3Fault::none();
  });
  core::Status s = store->put("x", "y");
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("503 SlowDown"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("after 6 attempts; S3 is throttling"), std::string::npos)
      << s.message();
}

TEST(S3Faults, ConditionalPutWhoseAnswerWasLostIsRecognisedAsOurs) {
  const std::string prefix = testing::unique_name("lost-answer");
  auto store = proxied_store(prefix);
  std::atomic<int> puts{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    // The first PUT reaches s3rver and writes; its answer is cut by a reset.
    if (is_object_request(r, "PUT", prefix + "/_delta_log/") && ++puts == 1) {
      return S3Fault::reset_mid_body();
    }
    return S3Fault::none();
  });
  core::Status s = store->put_if_absent("_delta_log/00000000000000000000.json", "commit 0");
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(puts.load(), 2);  // the retry met 412 and found our own bytes
  s = store->put_if_absent("_delta_log/00000000000000000000.json", "someone else");
  EXPECT_EQ(s.code(), core::StatusCode::kAlreadyExists) << s.to_string();
  EXPECT_EQ(*store->get("_delta_log/00000000000000000000.json"), "commit 0");
}

TEST(S3Faults, TwoWritersRacingForEachVersionExactlyOneWins) {
  const std::string prefix = testing::unique_name("race");
  auto a = proxied_store(prefix);
  auto b = proxied_store(prefix);
  constexpr int kVersions = 10;
  std::atomic<int> wins_a{0}, wins_b{0}, losses{0};
  auto writer = [&](ObjectStore* store, const std::string& who, std::atomic<int>& wins) {
    for (int v = 0; v < kVersions; ++v) {
      core::Status s = store->put_if_absent("_delta_log/" + std::to_string(v) + ".json", who);
      if (s.is_ok())
        ++wins;
      else if (s.code() == core::StatusCode::kAlreadyExists)
        ++losses;
      else
        ADD_FAILURE() << s.to_string();
    }
  };
  std::thread ta(writer, a.get(), "a", std::ref(wins_a));
  std::thread tb(writer, b.get(), "b", std::ref(wins_b));
  ta.join();
  tb.join();
  EXPECT_EQ(wins_a + wins_b, kVersions);
  EXPECT_EQ(losses.load(), kVersions);
  for (int v = 0; v < kVersions; ++v) {
    auto content = a->get("_delta_log/" + std::to_string(v) + ".json");
    ASSERT_TRUE(content.has_value());
    EXPECT_TRUE(*content == "a" || *content == "b");
  }
}

TEST(S3Faults, FailedMultipartUploadIsAbortedAndLeavesNoObject) {
  const std::string prefix = testing::unique_name("abort");
  StoreOptions o;
  o.multipart_threshold_bytes = 5ull << 20;
  o.part_size_bytes = 5ull << 20;
  auto store = proxied_store(prefix, o);
  std::atomic<int> aborts{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.method == "DELETE" && r.target.find("uploadId=") != std::string::npos) ++aborts;
    if (r.method == "PUT" && r.target.find("partNumber=2") != std::string::npos) {
      return S3Fault::slow_down();
    }
    return S3Fault::none();
  });
  core::Status s = store->put("big", std::string(6u << 20, 'b'));
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable) << s.to_string();
  EXPECT_EQ(aborts.load(), 1);
  EXPECT_EQ(store->size("big").status().code(), core::StatusCode::kNotFound);
}

TEST(S3Errors, UnknownAccessKeyNamesTheS3Code) {
  ASSERT_TRUE(s3_env().s3);
  auto config = s3rver_config(s3_env().s3->endpoint());
  config.credentials = aws::static_credentials({"NOT-A-KEY", "S3RVER", "", {}, "test"});
  core::Status s = make_s3_store(config, "x")->put("k", "v");
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("403 InvalidAccessKeyId"), std::string::npos) << s.message();
}

TEST(S3Errors, SignatureRefusalIsNotRetriedAndNamesTheS3Code) {
  // s3rver does not verify V4 signatures: the proxy answers as S3 does for a wrong secret.
  const std::string prefix = testing::unique_name("badsig");
  auto store = proxied_store(prefix);
  std::atomic<int> seen{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.target.find(prefix) == std::string::npos) return S3Fault::none();
    ++seen;
    return S3Fault::error(403, "SignatureDoesNotMatch");
  });
  core::Status s = store->put("k", "v");
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("403 SignatureDoesNotMatch"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("check the AWS credentials"), std::string::npos) << s.message();
  EXPECT_EQ(seen.load(), 1);
}

TEST(S3Errors, MissingBucketIsNoSuchBucket) {
  ASSERT_TRUE(s3_env().s3);
  auto config = s3rver_config(s3_env().s3->endpoint());
  config.bucket = "no-such-bucket-here";
  for (auto s : {make_s3_store(config, "p")->check(), make_s3_store(config, "p")->get("k").status(),
                 make_s3_store(config, "p")->put("k", "v")}) {
    EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument) << s.to_string();
    EXPECT_NE(s.message().find("NoSuchBucket"), std::string::npos) << s.message();
  }
}

TEST(S3Errors, UnreachableEndpointIsAClearRetryableError) {
  auto config = s3rver_config("http://127.0.0.1:" + std::to_string(testing::free_port()));
  core::Status s = make_s3_store(config, "p")->check();
  EXPECT_EQ(s.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("Couldn't connect to server"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("after 6 attempts; check AWS_ENDPOINT_URL_S3"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace pinstream::connectors::objstore
