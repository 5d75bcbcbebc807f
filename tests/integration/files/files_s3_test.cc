// The files source over s3://bucket/prefix on s3rver, through the fault proxy: the S3-sink
// layout listed and read in offset order, objects that appear while it runs, positions that
// restore, an object's last line without a newline, 503s and resets that change nothing,
// and the errors a user meets first (missing bucket, refused credentials, no endpoint).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "tests/integration/objstore/s3_env.h"
#include "tests/support/test_support.h"
#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::connectors::files {
namespace {

using objstore::proxied_store;
using objstore::s3_env;
using pinstream::testing::ProxiedRequest;
using pinstream::testing::S3Fault;

// The source reads through the proxy, so that faults can be injected into its requests.
struct S3Root {
  std::string prefix = pinstream::testing::unique_name("files");
  std::unique_ptr<objstore::ObjectStore> store;
  S3Root() {
    EXPECT_TRUE(s3_env().s3);
    pinstream::testing::set_s3rver_environment(s3_env().proxy->endpoint());
    store = proxied_store(prefix);
  }
  std::string url() const { return std::string("s3://") + objstore::kBucket + "/" + prefix; }
  // Small GETs, so that an object is read in many ranges.
  std::string yaml(int list_interval_ms = 20) const {
    return "settings: {root: '" + url() +
           "', list_interval_ms: " + std::to_string(list_interval_ms) +
           ", read_chunk_bytes: 4096}\nstreams:\n  s: {topic: t}\n";
  }
  void put(const std::string& key, const std::string& data) {
    ASSERT_TRUE(store->put(key, data).is_ok()) << key;
  }
};

struct FaultScope {
  explicit FaultScope(pinstream::testing::S3FaultProxy::Decide d) {
    s3_env().proxy->set_decide(std::move(d));
  }
  ~FaultScope() { s3_env().proxy->set_decide(nullptr); }
};

std::vector<std::string> expected_layout() {
  return {"t/0|t+0+0.json:1|a0", "t/0|t+0+0.json:2|a1", "t/0|t+0+2.json:1|a2",
          "t/0|t+0+10.json:1|a10", "t/1|t+1+0.json:1|b0"};
}

void put_layout(S3Root& r) {
  r.put("topics/t/partition=0/t+0+10.json", "a10\n");
  r.put("topics/t/partition=0/t+0+2.json", "a2\n");
  r.put("topics/t/partition=0/t+0+0.json", "a0\na1\n");
  r.put("topics/t/partition=1/t+1+0.json", "b0\n");
  r.put("topics/t/partition=1/nested/t+1+5.json", "not in the layout\n");
  r.put("topics/other/partition=0/other+0+0.json", "another topic\n");
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(FilesOnS3, ReadsTheLayoutInOffsetOrderPerPartition) {
  S3Root r;
  put_layout(r);
  Fixture f(r.yaml(), {"s"});
  ASSERT_NE(f.source, nullptr) << f.error.to_string();
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto got = drain(*f.source, 100);
  EXPECT_EQ(sorted(got), sorted(expected_layout()));
  // Per partition, in start-offset order (t+0+2 before t+0+10).
  std::vector<std::string> p0;
  for (const auto& g : got)
    if (g.rfind("t/0|", 0) == 0) p0.push_back(g);
  const auto all = expected_layout();
  EXPECT_EQ(p0, std::vector<std::string>(all.begin(), all.begin() + 4));
  EXPECT_EQ(f.source->lag().at(0), 0);
}

TEST(FilesOnS3, NoticesNewObjectsWhileRunningAndRestoresPositions) {
  S3Root r;
  r.put("topics/t/partition=0/t+0+0.json", "1\n2\n3\n");
  core::Positions committed;
  {
    Fixture f(r.yaml(), {"s"});
    ASSERT_NE(f.source, nullptr) << f.error.to_string();
    ASSERT_TRUE(f.source->open({}).is_ok());
    core::Batch batch;
    ASSERT_EQ(*f.source->poll(batch, std::chrono::milliseconds(0), 2), 2u);
    committed = f.source->positions();
  }
  Fixture f(r.yaml(), {"s"});
  ASSERT_TRUE(f.source->open(committed).is_ok());
  EXPECT_EQ(drain(*f.source), std::vector<std::string>{"t/0|t+0+0.json:3|3"});
  r.put("topics/t/partition=0/t+0+3.json", "4\n");
  r.put("topics/t/partition=2/t+2+0.json", "p2\n");
  std::vector<std::string> later;
  ASSERT_TRUE(pinstream::testing::wait_until(
      [&] {
        core::Batch batch;
        auto n = f.source->poll(batch, std::chrono::milliseconds(5), 10);
        EXPECT_TRUE(n.has_value());
        for (size_t k = 0; k < batch.size; ++k)
          later.push_back(batch.records[k].position + "|" + batch.records[k].bytes);
        return later.size() >= 2;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(sorted(later), (std::vector<std::string>{"t+0+3.json:1|4", "t+2+0.json:1|p2"}));
  EXPECT_EQ(f.source->partitions().size(), 2u);
}

TEST(FilesOnS3, AnObjectsLastLineWithoutNewlineIsOneWholeRecord) {
  S3Root r;
  r.put("topics/t/partition=0/t+0+0.json", "x\ny");
  r.put("topics/t/partition=0/t+0+2.json", "z\n");
  Fixture f(r.yaml(), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  core::Batch batch;
  ASSERT_EQ(*f.source->poll(batch, std::chrono::milliseconds(0), 10), 3u);
  EXPECT_EQ(batch.records[1].bytes, "y");
  EXPECT_EQ(batch.records[1].cut, core::RecordCut::kWhole);
  EXPECT_EQ(batch.records[2].position, "t+0+2.json:1");
  EXPECT_TRUE(f.source->drained());
  EXPECT_FALSE(f.source->release_partial());
}

TEST(FilesOnS3, SlowDownsAndResetsGiveTheSameRecordsExactlyOnce) {
  S3Root r;
  std::string big;
  for (int i = 0; i < 3000; ++i) big += "{\"n\":" + std::to_string(i) + "}\n";
  r.put("topics/t/partition=0/t+0+100.json", big);
  put_layout(r);
  auto clean = [&] {
    Fixture f(r.yaml(), {"s"});
    EXPECT_TRUE(f.source->open({}).is_ok());
    return drain(*f.source, 500);
  }();
  ASSERT_EQ(clean.size(), 3000u + expected_layout().size());
  std::atomic<int> seen{0};
  auto before = s3_env().proxy->injected();
  FaultScope faults([&](const ProxiedRequest& req) {
    if (req.target.find(r.prefix) == std::string::npos &&
        req.target.find("prefix=" + r.prefix) == std::string::npos)
      return S3Fault::none();
    int n = ++seen;
    if (n % 3 == 0) return S3Fault::slow_down();
    if (n % 3 == 1) return S3Fault::reset_mid_body();
    return S3Fault::none();
  });
  Fixture f(r.yaml(), {"s"});
  ASSERT_TRUE(f.source->open({}).is_ok());
  EXPECT_EQ(drain(*f.source, 500), clean);
  auto after = s3_env().proxy->injected();
  EXPECT_GT(after["SlowDown"] - before["SlowDown"], 0);
  EXPECT_GT(after["Reset"] - before["Reset"], 0);
  int ranged = 0;
  for (const auto& req : s3_env().proxy->requests())
    ranged += req.method == "GET" &&
              req.target.find(r.prefix + "/topics/t/partition%3D0/t%2B0%2B100.json") !=
                  std::string::npos &&
              req.head.find("Range: bytes=") != std::string::npos;
  EXPECT_GT(ranged, 5) << "the big object is read in many ranged GETs";
}

// Sets an environment variable for one scope.
struct EnvScope {
  std::string name, old;
  bool had;
  EnvScope(const char* n, const std::string& v) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (o) old = o;
    ::setenv(n, v.c_str(), 1);
  }
  ~EnvScope() { had ? ::setenv(name.c_str(), old.c_str(), 1) : ::unsetenv(name.c_str()); }
};

TEST(FilesOnS3, AMissingBucketOrRefusedCredentialsIsAConfigErrorWithTheS3Code) {
  S3Root r;
  {
    Fixture f("settings: {root: 's3://no-such-bucket-here/x'}\nstreams:\n  s: {topic: t}\n", {"s"});
    EXPECT_EQ(f.source, nullptr);
    EXPECT_EQ(f.error.code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(f.error.message().find("NoSuchBucket"), std::string::npos) << f.error.message();
    EXPECT_NE(f.error.message().find("test.yaml:1"), std::string::npos) << f.error.message();
  }
  EnvScope key("AWS_ACCESS_KEY_ID", "NOT-A-KEY");
  Fixture f(r.yaml(), {"s"});
  EXPECT_EQ(f.source, nullptr);
  EXPECT_EQ(f.error.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(f.error.message().find("InvalidAccessKeyId"), std::string::npos) << f.error.message();
  EXPECT_EQ(f.error.message().find("S3RVER"), std::string::npos) << "no secret in messages";
}

TEST(FilesOnS3, AnUnreachableEndpointIsARuntimeFailure) {
  S3Root r;
  EnvScope endpoint("AWS_ENDPOINT_URL_S3",
                    "http://127.0.0.1:" + std::to_string(pinstream::testing::free_port()));
  Fixture f(r.yaml(), {"s"});
  EXPECT_EQ(f.source, nullptr);
  EXPECT_EQ(f.error.code(), core::StatusCode::kUnavailable) << f.error.to_string();
  EXPECT_NE(f.error.message().find(r.url()), std::string::npos) << f.error.message();
}

TEST(FilesOnS3, AGlobOnS3IsRefusedNamingTheKey) {
  Fixture f("streams:\n  s: {glob: 's3://b/p/*.json'}\n", {"s"});
  EXPECT_EQ(f.source, nullptr);
  EXPECT_NE(f.error.message().find("a glob reads local files only"), std::string::npos)
      << f.error.message();
}

}  // namespace
}  // namespace pinstream::connectors::files
