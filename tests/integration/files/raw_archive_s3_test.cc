// The raw archive (stream/raw_archive.h) on s3://bucket/prefix, on s3rver: each epoch's file
// is one object in the S3-sink layout, read back by the files source; files a crashed epoch
// left (at or past the committed next start) are listed and deleted before being rewritten;
// a missing bucket is refused when the archive opens.
#include <gtest/gtest.h>

#include "stream/raw_archive.h"
#include "tests/integration/objstore/s3_env.h"
#include "tests/support/test_support.h"
#include "tests/unit/connectors/files_fixture.h"

namespace pinstream::runtime {
namespace {

using connectors::objstore::kBucket;
using connectors::objstore::s3_env;

core::RawRecord record(const std::string& position, const std::string& bytes) {
  core::RawRecord r;
  r.position = position;
  r.bytes = bytes;
  return r;
}

struct Archive {
  std::string prefix = testing::unique_name("archive");
  std::unique_ptr<connectors::objstore::ObjectStore> store;
  Archive() {
    EXPECT_TRUE(s3_env().s3);
    testing::set_s3rver_environment(s3_env().proxy->endpoint());
    store = connectors::objstore::proxied_store(prefix);
  }
  std::string root() const { return std::string("s3://") + kBucket + "/" + prefix; }
  std::unique_ptr<RawArchive> open() {
    auto a = RawArchive::open({{root(), "t"}});
    EXPECT_TRUE(a.has_value()) << a.error().to_string();
    return a ? std::move(*a) : nullptr;
  }
  std::vector<std::string> keys() {
    std::vector<std::string> out;
    auto listed = store->list("topics/");
    EXPECT_TRUE(listed.has_value());
    if (listed.has_value())
      for (const auto& o : listed.value()) out.push_back(o.key);
    return out;
  }
};

TEST(RawArchiveOnS3, EachEpochIsOneObjectInTheSinkLayoutThatTheFilesSourceReadsBack) {
  Archive a;
  const core::PartitionRef p0{"t/0", 0}, p2{"t/2", 0};
  std::map<std::string, int64_t> next;
  auto archive = a.open();
  ASSERT_TRUE(archive);
  archive->add(p0, 0, record("5", "{\"a\":1}"), next);
  archive->add(p0, 0, record("6", "{\"a\":2}"), next);
  archive->add(p2, 1, record("0", "{\"c\":1}"), next);
  ASSERT_TRUE(archive->flush(next).is_ok());
  archive->add(p0, 0, record("7", "{\"a\":3}"), next);
  ASSERT_TRUE(archive->flush(next).is_ok());
  EXPECT_EQ(next["t/0"], 8);
  EXPECT_EQ(a.keys(), (std::vector<std::string>{"topics/t/partition=0/t+0+5.json",
                                                "topics/t/partition=0/t+0+7.json",
                                                "topics/t/partition=2/t+2+0.json"}));
  EXPECT_EQ(*a.store->get("topics/t/partition=0/t+0+5.json"), "{\"a\":1}\n{\"a\":2}\n");

  connectors::files::Fixture f("settings: {root: '" + a.root() + "'}\nstreams:\n  s: {topic: t}\n",
                               {"s"});
  ASSERT_NE(f.source, nullptr) << f.error.to_string();
  ASSERT_TRUE(f.source->open({}).is_ok());
  auto got = connectors::files::drain(*f.source, 100);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"t/0|t+0+5.json:1|{\"a\":1}", "t/0|t+0+5.json:2|{\"a\":2}",
                                      "t/0|t+0+7.json:1|{\"a\":3}", "t/2|t+2+0.json:1|{\"c\":1}"}));
}

TEST(RawArchiveOnS3, FilesNoCommittedEpochWroteAreDeletedBeforeTheEpochIsWrittenAgain) {
  Archive a;
  ASSERT_TRUE(a.store->put("topics/t/partition=0/t+0+0.json", "committed\n").is_ok());
  // A crash after these were written and before the state write that counted them.
  ASSERT_TRUE(a.store->put("topics/t/partition=0/t+0+1.json", "uncommitted\n").is_ok());
  ASSERT_TRUE(a.store->put("topics/t/partition=0/t+0+4.json", "uncommitted too\n").is_ok());
  ASSERT_TRUE(a.store->put("topics/t/partition=0/other.json", "not ours\n").is_ok());
  std::map<std::string, int64_t> next{{"t/0", 1}};
  auto archive = a.open();
  ASSERT_TRUE(archive);
  archive->add({"t/0", 0}, 0, record("1", "redone"), next);
  ASSERT_TRUE(archive->flush(next).is_ok());
  EXPECT_EQ(a.keys(), (std::vector<std::string>{"topics/t/partition=0/other.json",
                                                "topics/t/partition=0/t+0+0.json",
                                                "topics/t/partition=0/t+0+1.json"}));
  EXPECT_EQ(*a.store->get("topics/t/partition=0/t+0+1.json"), "redone\n");
  EXPECT_EQ(*a.store->get("topics/t/partition=0/t+0+0.json"), "committed\n");
}

TEST(RawArchiveOnS3, AMissingBucketIsRefusedWhenTheArchiveOpens) {
  Archive a;
  auto archive = RawArchive::open({{"s3://no-such-archive-bucket/raw", "t"}});
  ASSERT_FALSE(archive.has_value());
  EXPECT_EQ(archive.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(archive.error().message().find("NoSuchBucket"), std::string::npos)
      << archive.error().message();
  EXPECT_NE(archive.error().message().find("raw archive root s3://no-such-archive-bucket/raw"),
            std::string::npos)
      << archive.error().message();
}

}  // namespace
}  // namespace pinstream::runtime
