// The built binary with its checkpoints on s3rver (PINSTREAM_CHECKPOINTS=s3://...) and its
// tables on the local disk: a new machine (the state wiped, the tables kept) goes on from the
// stored checkpoint and ends equal to a clean run; kill -9 during a checkpoint upload, then
// restarts, end equal to a clean run too.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <memory>
#include <set>

#include "connectors/objstore/object_store.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/s3_shared.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBucket = "pinstream-ckpt-e2e";

SharedS3& s3() { return shared_s3(kBucket, /*environment_to_proxy=*/false); }

// kS3Faults: through the proxy, which answers 503 SlowDown or resets the connection after
// the write landed on one request in five of the checkpoint store's (all retried).
enum class Where { kS3, kS3Proxied, kS3Faults, kLocal };

// One pipeline over 400 keys, epochs of 100 records, a checkpoint every 2 epochs, its
// checkpoints under a fresh prefix of the bucket (through the proxy when asked), or in a
// local directory outside the data root.
struct StoredRun {
  PipelineRun run{"pinstream-ckpt-e2e", 100, 2};
  ExpectedPipeline expected;
  std::string prefix = unique_name("ckpt");
  std::string url;

  explicit StoredRun(Where where) {
    expected.write_input(run.raw(), 400);
    url = where == Where::kLocal ? (run.dir().path() / "kept-checkpoints").string()
                                 : std::string("s3://") + kBucket + "/" + prefix;
    if (where != Where::kLocal)
      set_s3rver_environment(where == Where::kS3 ? s3().emulator->endpoint()
                                                 : s3().proxy->endpoint());
    if (where == Where::kS3Faults) {
      s3().proxy->set_decide(
          [this, n = std::make_shared<std::atomic<int>>(0)](const ProxiedRequest& q) {
            if (q.target.find(prefix) == std::string::npos || ++*n % 5 != 0) return S3Fault::none();
            return *n % 2 ? S3Fault::slow_down() : S3Fault::reset_mid_body();
          });
    }
    ::setenv("PINSTREAM_CHECKPOINTS", url.c_str(), 1);
  }
  ~StoredRun() {
    ::unsetenv("PINSTREAM_CHECKPOINTS");
    if (s3().proxy) s3().proxy->set_decide(nullptr);
  }
  std::string cfg() const { return "--config '" + run.config().string() + "'"; }
  // A new machine: everything under the data root but the tables is gone.
  void wipe_all_but_tables() const {
    for (const auto& e : fs::directory_iterator(run.data()))
      if (e.path().filename() != "tables") fs::remove_all(e.path());
  }
  std::vector<std::string> checkpoint_ids() const {
    std::string out;
    EXPECT_EQ(run.pinstream("checkpoints " + cfg(), &out, false), 0) << out;
    std::vector<std::string> ids;
    for (size_t at = 0; at < out.size();) {
      size_t end = out.find('\n', at);
      if (end == std::string::npos) end = out.size();
      if (end > at) ids.push_back(out.substr(at, out.find(' ', at) - at));
      at = end + 1;
    }
    return ids;
  }
  void expect_equal_to_a_clean_run() const {
    for (auto [name, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                               std::pair{"user", &expected.user}}) {
      std::multiset<int64_t> want;
      for (const auto& [k, v] : *model) want.insert(k);
      EXPECT_EQ(run.keys(name), want) << name;
    }
    for (const char* v : {"most_popular_category_by_country", "median_follower_count_by_age_group",
                          "users_joined_by_year"})
      EXPECT_EQ(run.query(v)["rows"], expected.view(v)) << v;
    std::string out;
    EXPECT_EQ(run.pinstream("verify " + cfg(), &out), 0) << out;
  }
  // Every object of the prefix belongs to a listed checkpoint or is a shared SST.
  void expect_no_leftovers() const {
    auto store = connectors::objstore::open_store(url);
    ASSERT_TRUE(store.has_value());
    auto objects = (*store)->list("");
    ASSERT_TRUE(objects.has_value()) << objects.error().message();
    auto ids = checkpoint_ids();
    std::set<std::string> kept(ids.begin(), ids.end());
    for (const auto& o : *objects) {
      if (o.key.rfind("sst/", 0) == 0) continue;
      EXPECT_TRUE(kept.count(o.key.substr(0, 8))) << o.key;
    }
  }
};

class NewMachine : public ::testing::TestWithParam<Where> {};

TEST_P(NewMachine, GoesOnFromTheStoredCheckpointAndAddsNothingTwice) {
  StoredRun r(GetParam());
  auto faults_before = s3().proxy ? s3().proxy->injected() : std::map<std::string, int>{};
  // The second file of every partition arrives after the old machine is gone.
  std::vector<std::pair<fs::path, fs::path>> later;
  for (const auto& f : fs::recursive_directory_iterator(r.run.raw()))
    if (f.is_regular_file() && f.path().filename().string().find("+0.json") == std::string::npos)
      later.push_back({f.path(), r.run.dir().path() / ("later-" + std::to_string(later.size()))});
  ASSERT_FALSE(later.empty());
  for (const auto& [from, to] : later) fs::rename(from, to);
  std::string out;
  ASSERT_EQ(r.run.run_until_idle(&out), 0) << out;
  EXPECT_FALSE(fs::exists(r.run.data() / "checkpoints"));  // they are in the bucket
  // At least checkpoint 0 and the final one (those due while an upload runs are skipped).
  auto ids = r.checkpoint_ids();
  ASSERT_GE(ids.size(), 2u) << out;
  // The newest checkpoint never made it (the machine died during its upload): the tables are
  // ahead of the one restored, which must undo their later commits, not add them twice.
  auto store = connectors::objstore::open_store(r.url);
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE((*store)->remove(ids.back() + "/manifest.json").is_ok());
  const std::string restored = ids[ids.size() - 2];
  r.wipe_all_but_tables();
  for (const auto& [from, to] : later) fs::rename(to, from);
  ASSERT_EQ(r.run.run_until_idle(&out), 0) << out;
  EXPECT_NE(out.find("Restored state from checkpoint. id=" + restored), std::string::npos) << out;
  EXPECT_NE(out.find("from=" + r.url), std::string::npos) << out;
  EXPECT_NE(out.find("Table restored. table="), std::string::npos) << out;
  r.expect_equal_to_a_clean_run();
  r.expect_no_leftovers();
  if (GetParam() == Where::kS3Faults) {
    auto after = s3().proxy->injected();
    EXPECT_GT(after["SlowDown"] - faults_before["SlowDown"], 0);
    EXPECT_GT(after["Reset"] - faults_before["Reset"], 0);
  }
  // Replay works against the store too.
  ASSERT_EQ(r.run.pinstream("replay " + r.cfg() + " --from-checkpoint 0 --until-idle", &out), 0)
      << out;
  r.expect_equal_to_a_clean_run();
}

INSTANTIATE_TEST_SUITE_P(CheckpointsE2E, NewMachine,
                         ::testing::Values(Where::kS3, Where::kS3Faults, Where::kLocal),
                         [](const auto& p) {
                           return p.param == Where::kLocal      ? "LocalPath"
                                  : p.param == Where::kS3Faults ? "S3With503AndResets"
                                                                : "S3";
                         });

TEST(CheckpointsOnS3E2E, KillNineDuringACheckpointUploadThenRestartsEndEqualToACleanRun) {
  StoredRun r(Where::kS3Proxied);
  // Slow uploads: every PUT of this prefix waits, so that the kill lands in one.
  s3().proxy->set_decide([&](const ProxiedRequest& q) {
    return q.method == "PUT" && q.target.find(r.prefix) != std::string::npos ? S3Fault::delay(60)
                                                                             : S3Fault::none();
  });
  const fs::path log = r.run.dir().path() / "daemon.log";
  pid_t pid = r.run.spawn("--until-idle", log);
  ASSERT_GT(pid, 0);
  // Killed once a checkpoint's files are going up (its manifest not yet).
  bool uploading = wait_until(
      [&] {
        for (const auto& q : s3().proxy->requests())
          if (q.method == "PUT" && q.target.find(r.prefix + "/0000000") != std::string::npos &&
              q.target.find("/state/") != std::string::npos && q.n > 0)
            return true;
        return false;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  s3().proxy->set_decide(nullptr);
  ASSERT_TRUE(uploading) << read_file(log);
  EXPECT_TRUE(WIFSIGNALED(status)) << read_file(log);
  // The same machine restarts.
  std::string out;
  ASSERT_EQ(r.run.run_until_idle(&out), 0) << out;
  r.expect_equal_to_a_clean_run();
  r.expect_no_leftovers();
  EXPECT_FALSE(fs::exists(r.run.data() / "checkpoint-scratch") &&
               !fs::is_empty(r.run.data() / "checkpoint-scratch"));
  // And a new machine after it.
  r.wipe_all_but_tables();
  ASSERT_EQ(r.run.run_until_idle(&out), 0) << out;
  EXPECT_NE(out.find("Restored state from checkpoint"), std::string::npos) << out;
  r.expect_equal_to_a_clean_run();
}

TEST(CheckpointsOnS3E2E, AMissingBucketIsAConfigurationErrorNamingTheStore) {
  StoredRun r(Where::kS3);
  const std::string url = "s3://" + unique_name("no-such-bucket") + "/ckpt";
  ::setenv("PINSTREAM_CHECKPOINTS", url.c_str(), 1);
  std::string out;
  EXPECT_EQ(r.run.run_until_idle(&out), 2) << out;
  EXPECT_NE(out.find("checkpoint store " + url), std::string::npos) << out;
  EXPECT_NE(out.find("NoSuchBucket"), std::string::npos) << out;
}

}  // namespace
}  // namespace pinstream::testing
