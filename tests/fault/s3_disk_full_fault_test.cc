// A full local disk while pinstream works against S3: the staging directory of the Delta
// tables (Parquet files written before their upload) or the checkpoint scratch directory
// (the RocksDB checkpoint before its upload) is a tiny tmpfs that fills up (ENOSPC). The
// run stops with exit 1 and a one-line error saying the device is full; with the space back
// (tmpfs unmounted), the same command ends with tables equal to a clean local run.
// Needs root (mount(2)); skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/s3_shared.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kBucket = "pinstream-disk-full";

// A tmpfs of `size` mounted on `dir` while it lives.
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0)
      error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  std::string error_;
};

const std::vector<std::array<std::string, 3>> kCompared = {
    {"pin", "*", "ind"},
    {"geo", "*", "ind"},
    {"user", "*", "ind"},
    {"dead_letters", "stream, source, position, reason, raw", "stream, position"},
    {"category_count_by_hour", "*", "window_start, category"}};

// `sub` of the data directory fills up during the first run against S3.
void full_disk_then_restart(const std::string& sub, const std::string& size) {
  auto& s3 = shared_s3(kBucket);
  ASSERT_TRUE(s3.proxy);
  PipelineRun run("ps-disk-full", /*epoch_records=*/100, /*checkpoint_every=*/1);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 600);
  const fs::path local = run.dir().path() / "local", remote = run.dir().path() / "remote";
  std::string out;
  run.set_data(local);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;

  const std::string prefix = unique_name("full");
  const std::string bucket = std::string("s3://") + kBucket + "/" + prefix;
  ScopedEnv tables("PINSTREAM_TABLES", bucket + "/tables");
  ScopedEnv checkpoints("PINSTREAM_CHECKPOINTS", bucket + "/checkpoints");
  run.set_data(remote);
  {
    TmpfsMount full(remote / sub, size);
    if (!full.error().empty())
      GTEST_SKIP() << "cannot mount a tmpfs to fill (needs root): " << full.error();
    EXPECT_EQ(run.run_until_idle(&out), 1) << out;
    EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
  }
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  ASSERT_EQ(run_command("aws --endpoint-url " + s3.emulator->endpoint() +
                            " --region us-east-1 s3 cp --recursive --only-show-errors " + bucket +
                            "/tables '" + (remote / "tables").string() + "'",
                        &out),
            0)
      << out;
  for (const auto& [table, cols, order] : kCompared) {
    run.set_data(remote);
    const std::string got = run.rows(table, cols, order);
    run.set_data(local);
    const std::string want = run.rows(table, cols, order);
    EXPECT_EQ(got, want) << table;
    EXPECT_NE(got, "[]") << table << " is empty: the comparison would prove nothing";
  }
}

TEST(S3DiskFullFault, StagingOfTableFilesFullExitsOneAndTheRestartEndsEqual) {
  full_disk_then_restart("staging", "24k");
}

TEST(S3DiskFullFault, CheckpointScratchFullExitsOneAndTheRestartEndsEqual) {
  full_disk_then_restart("checkpoint-scratch", "32k");
}

}  // namespace
}  // namespace pinstream::testing
