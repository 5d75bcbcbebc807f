// put_file on S3: a local file streamed to the store (hashed, then read again by libcurl,
// multipart parts read in turn), never held whole in memory. Read back whole after a 503 on
// a part; a file truncated or appended to during the upload fails clearly and leaves no
// object; the process's peak memory does not grow with the file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "tests/integration/objstore/s3_env.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::objstore {
namespace {

namespace fs = std::filesystem;
using testing::ProxiedRequest;
using testing::S3Fault;

struct FaultScope {
  explicit FaultScope(testing::S3FaultProxy::Decide d) { s3_env().proxy->set_decide(std::move(d)); }
  ~FaultScope() { s3_env().proxy->set_decide(nullptr); }
};

// The byte at `i` of the test files: not periodic in any part size.
char byte_at(uint64_t i) { return static_cast<char>((i * 2654435761u) >> 13); }

// Writes `size` bytes of byte_at() a MiB at a time.
void write_file(const fs::path& path, uint64_t size) {
  std::ofstream out(path, std::ios::binary);
  std::string chunk;
  for (uint64_t off = 0; off < size;) {
    chunk.clear();
    for (uint64_t i = off; i < std::min(size, off + (1u << 20)); ++i) chunk.push_back(byte_at(i));
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    off += chunk.size();
  }
}

// Whether the object holds byte_at(0 .. size), compared a MiB-range at a time.
::testing::AssertionResult holds_file_bytes(ObjectStore& store, const std::string& key,
                                            uint64_t size) {
  auto have = store.size(key);
  if (!have || *have != size)
    return ::testing::AssertionFailure() << key << " is not " << size << " bytes";
  for (uint64_t off = 0; off < size; off += 1u << 20) {
    auto part = store.get(key, ByteRange{off, uint64_t{1} << 20});
    if (!part) return ::testing::AssertionFailure() << part.error().to_string();
    for (size_t i = 0; i < part->size(); ++i)
      if ((*part)[i] != byte_at(off + i))
        return ::testing::AssertionFailure() << key << " differs at byte " << off + i;
  }
  return ::testing::AssertionSuccess();
}

StoreOptions five_mib_parts() {
  StoreOptions o;
  o.multipart_threshold_bytes = 5ull << 20;
  o.part_size_bytes = 5ull << 20;
  return o;
}

TEST(S3FileUpload, AFileOfSeveralPartsIsReadBackWholeAfterA503OnAPart) {
  testing::TempDir dir("s3-file-parts");
  const fs::path path = dir.path() / "big.bin";
  const uint64_t size = (11ull << 20) + 12345;  // three parts, the last one short
  write_file(path, size);
  const std::string prefix = testing::unique_name("file-parts");
  auto store = proxied_store(prefix, five_mib_parts());
  std::atomic<int> part2{0}, parts{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.method != "PUT" || r.target.find("partNumber=") == std::string::npos)
      return S3Fault::none();
    ++parts;
    const bool second = r.target.find("partNumber=2&") != std::string::npos;
    return second && ++part2 == 1 ? S3Fault::slow_down() : S3Fault::none();
  });
  ASSERT_TRUE(store->put_file("big.bin", path.string()).is_ok());
  EXPECT_EQ(part2.load(), 2);  // refused once, then sent again from the file
  EXPECT_EQ(parts.load(), 4);
  EXPECT_TRUE(holds_file_bytes(*store, "big.bin", size));
}

TEST(S3FileUpload, AFileTruncatedDuringAMultipartUploadFailsAndLeavesNoObject) {
  testing::TempDir dir("s3-file-cut");
  const fs::path path = dir.path() / "cut.bin";
  write_file(path, 12ull << 20);
  const std::string prefix = testing::unique_name("file-cut");
  auto store = proxied_store(prefix, five_mib_parts());
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.method == "PUT" && r.target.find("partNumber=1&") != std::string::npos)
      fs::resize_file(path, 6ull << 20);  // while part 1 is on its way
    return S3Fault::none();
  });
  core::Status s = store->put_file("cut.bin", path.string());
  EXPECT_EQ(s.code(), core::StatusCode::kIoError) << s.to_string();
  EXPECT_NE(s.message().find("changed while it was uploaded"), std::string::npos) << s.message();
  EXPECT_EQ(store->size("cut.bin").status().code(), core::StatusCode::kNotFound);
}

TEST(S3FileUpload, AFileAppendedToDuringAPutFailsAndLeavesNoObject) {
  testing::TempDir dir("s3-file-grow");
  const fs::path path = dir.path() / "grow.bin";
  write_file(path, 300000);
  const std::string prefix = testing::unique_name("file-grow");
  auto store = proxied_store(prefix);
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.method == "PUT" && r.target.find("grow.bin") != std::string::npos) {
      std::ofstream(path, std::ios::binary | std::ios::app) << "late bytes";
    }
    return S3Fault::none();
  });
  core::Status s = store->put_file("grow.bin", path.string());
  EXPECT_EQ(s.code(), core::StatusCode::kIoError) << s.to_string();
  EXPECT_NE(s.message().find("changed while it was uploaded"), std::string::npos) << s.message();
  EXPECT_EQ(store->size("grow.bin").status().code(), core::StatusCode::kNotFound);
}

TEST(S3FileUpload, AMissingFileIsAClearErrorNamingIt) {
  auto store = proxied_store(testing::unique_name("file-missing"));
  core::Status s = store->put_file("x", "/nonexistent/pinstream-upload.bin");
  EXPECT_EQ(s.code(), core::StatusCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent/pinstream-upload.bin"), std::string::npos);
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Straight to s3rver (the proxy, in this process, keeps request bodies for the SigV4 tests).
TEST(S3FileUpload, PeakMemoryDoesNotGrowWithTheFile) {
  ASSERT_TRUE(s3_env().s3);
  testing::TempDir dir("s3-file-rss");
  const fs::path path = dir.path() / "large.bin";
  const uint64_t size = 40ull << 20;  // one streamed PUT (below the 64 MiB multipart default)
  write_file(path, size);
  auto store =
      make_s3_store(s3rver_config(s3_env().s3->endpoint()), testing::unique_name("file-rss"));
  ASSERT_TRUE(store->put("warm", "up").is_ok());  // connection and TLS-free curl state made
  const long before = peak_rss_kib();
  ASSERT_TRUE(store->put_file("large.bin", path.string()).is_ok());
  const long grown = peak_rss_kib() - before;
  EXPECT_LT(grown, 8 * 1024) << "peak RSS grew by " << grown << " KiB for a 40 MiB file";
  auto have = store->size("large.bin");
  ASSERT_TRUE(have.has_value());
  EXPECT_EQ(*have, size);
  auto tail = store->get("large.bin", ByteRange{size - 100, std::nullopt});
  ASSERT_TRUE(tail.has_value());
  for (size_t i = 0; i < tail->size(); ++i) ASSERT_EQ((*tail)[i], byte_at(size - 100 + i));
}

}  // namespace
}  // namespace pinstream::connectors::objstore
