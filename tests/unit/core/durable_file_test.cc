// The one way files are written durably (stream/core/durable_file.h): replace, create only
// if absent, and no partial or temporary file left visible when a write fails.
#include "stream/core/durable_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_support.h"

namespace pinstream::core {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Makes every write past `bytes` fail with EFBIG (a full disk, as far as the writer can
// tell) for the scope's lifetime.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_;
};

TEST(DurableFile, WriteReplacesTheFileAndCreatesItsDirectory) {
  testing::TempDir dir("durable-write");
  const fs::path p = dir / "a/b/file.json";
  ASSERT_TRUE(write_file_atomically(p, "one").is_ok());
  EXPECT_EQ(read(p), "one");
  ASSERT_TRUE(write_file_atomically(p, "two, longer").is_ok());
  EXPECT_EQ(read(p), "two, longer");
  EXPECT_EQ(names_in(dir / "a/b"), std::vector<std::string>{"file.json"});  // no temp left
}

TEST(DurableFile, AFailedWriteLeavesTheOldFileAndNoPartialFile) {
  testing::TempDir dir("durable-fail");
  const fs::path p = dir / "manifest.json";
  ASSERT_TRUE(write_file_atomically(p, "old").is_ok());
  const std::string big(64 * 1024, 'x');
  Status st;
  {
    FileSizeLimit limit(4096);  // the write stops part way
    st = write_file_atomically(p, big);
  }
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("manifest.json"), std::string::npos) << st.message();
  EXPECT_EQ(read(p), "old");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"manifest.json"});
}

TEST(DurableFile, AFailedCreateLeavesNoFileAtAll) {
  testing::TempDir dir("durable-create-fail");
  Status st;
  {
    FileSizeLimit limit(4096);
    st = create_file_exclusively(dir / "00000000000000000003.json", std::string(64 * 1024, 'x'));
  }
  EXPECT_FALSE(st.is_ok());
  EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(DurableFile, CreateIfAbsentRefusesAnExistingFileAndKeepsIt) {
  testing::TempDir dir("durable-create");
  const fs::path p = dir / "00000000000000000001.json";
  ASSERT_TRUE(create_file_exclusively(p, "first").is_ok());
  Status st = create_file_exclusively(p, "second");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.to_string();
  EXPECT_EQ(read(p), "first");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"00000000000000000001.json"});
}

TEST(DurableFile, OfWritersRacingToCreateOneFileExactlyOneWins) {
  testing::TempDir dir("durable-race");
  const fs::path p = dir / "commit.json";
  constexpr int kWriters = 8;
  std::vector<Status> results(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] {
      results[static_cast<size_t>(i)] = create_file_exclusively(p, "writer " + std::to_string(i));
    });
  for (auto& t : threads) t.join();
  int won = 0;
  std::string winner;
  for (int i = 0; i < kWriters; ++i) {
    const Status& st = results[static_cast<size_t>(i)];
    if (st.is_ok()) {
      ++won;
      winner = "writer " + std::to_string(i);
    } else {
      EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.to_string();
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(read(p), winner);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"commit.json"});
}

TEST(DurableFile, TemporaryNamesAreRecognisedSoListingsSkipThem) {
  EXPECT_TRUE(is_temp_file_name(".00000000000000000001.json.ps-tmp-12-3"));
  EXPECT_FALSE(is_temp_file_name("00000000000000000001.json"));
}

TEST(DurableFile, FsyncOfAMissingPathIsNotFound) {
  testing::TempDir dir("durable-fsync");
  EXPECT_TRUE(fsync_path(dir.path(), true).is_ok());
  EXPECT_EQ(fsync_path(dir / "missing", false).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinstream::core
