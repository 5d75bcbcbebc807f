// Delta tables on S3 (s3rver behind the fault proxy, which adds the conditional PUT s3rver
// lacks): commits and read-back, checkpoints and _last_checkpoint, two writers racing for
// the same versions, 503/reset faults at random requests during uploads and commits, and
// VACUUM (listings carry LastModified).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/inspect.h"
#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"
#include "connectors/delta/vacuum.h"
#include "tests/integration/delta/delta_test_util.h"
#include "tests/integration/objstore/s3_env.h"

namespace pinstream::connectors::delta::test {
namespace {
namespace fs = std::filesystem;
using objstore::kBucket;
using objstore::proxied_store;
using objstore::s3_env;
using testing::ProxiedRequest;
using testing::S3Fault;

struct FaultScope {
  explicit FaultScope(testing::S3FaultProxy::Decide d) { s3_env().proxy->set_decide(std::move(d)); }
  ~FaultScope() { s3_env().proxy->set_decide(nullptr); }
};

struct S3Table {
  std::string prefix = testing::unique_name("delta");
  testing::TempDir staging{"pinstream-delta-staging"};
  std::string url() const { return std::string("s3://") + kBucket + "/" + prefix; }
  std::shared_ptr<ObjectStore> store() const { return proxied_store(prefix); }
  core::Result<std::unique_ptr<DeltaTable>> open(TableOptions o = {}) const {
    o.staging_dir = staging.path().string();
    return DeltaTable::open(store(), url(), "pin", pin_schema(), o);
  }
  // Every object of the table copied into `dir` (as a reader downloading it would).
  void download(const fs::path& dir) const {
    auto s = store();
    auto all = s->list("");
    ASSERT_TRUE(all.has_value()) << all.error().message();
    for (const auto& o : *all) {
      auto bytes = s->get(o.key);
      ASSERT_TRUE(bytes.has_value()) << o.key;
      fs::create_directories((dir / o.key).parent_path());
      testing::write_file(dir / o.key, *bytes);
    }
  }
};

// Rows of the active files, read back with DuckDB from a download: (count, distinct ind).
json counted(const S3Table& t, DeltaTable& table) {
  testing::TempDir copy{"pinstream-delta-copy"};
  t.download(copy.path());
  auto files = table.active_files();
  EXPECT_TRUE(files.has_value());
  if (!files || files->empty()) return json::array();
  return duck("SELECT count(*) AS n, count(DISTINCT ind) AS d, sum(ind) AS s FROM " +
              scan(copy.path().string(), *files));
}

TEST(DeltaOnS3, CommitsAreReadBackAndStagedFilesAreUploadedThenDeleted) {
  S3Table t;
  auto table = t.open();
  ASSERT_TRUE(table.has_value()) << table.error().message();
  for (int e = 1; e <= 3; ++e) {
    auto c = write_epoch(**table, e * 100, e * 100 + 50, "app", e);
    EXPECT_EQ(c.version, e);
  }
  // The staged files went to the store and left the staging directory.
  size_t staged = 0;
  for (const auto& f : fs::recursive_directory_iterator(t.staging.path()))
    staged += f.is_regular_file() ? 1u : 0u;
  EXPECT_EQ(staged, 0u);
  auto fresh = t.open();  // another handle, replaying the log from the store
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(*(*fresh)->latest_version(), 3);
  EXPECT_EQ((*fresh)->txn_version("app")->value(), 3);
  // Redoing an epoch is skipped, as after a crash.
  auto again = (*fresh)->commit({}, "app", 3);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->skipped);
  json c = counted(t, **fresh);
  EXPECT_EQ(c[0]["n"], 150);
  EXPECT_EQ(c[0]["d"], 150);
  auto log = list_log(*t.store());
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->commits, (std::set<int64_t>{0, 1, 2, 3}));
}

TEST(DeltaOnS3, CheckpointIsWrittenBeforeLastCheckpointAndReplayStartsThere) {
  S3Table t;
  auto table = t.open();
  ASSERT_TRUE(table.has_value()) << table.error().message();
  const int before = static_cast<int>(s3_env().proxy->requests().size());
  for (int e = 1; e <= 10; ++e) write_epoch(**table, e * 10, e * 10 + 3, "app", e);
  auto log = list_log(*t.store());
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->checkpoints, (std::set<int64_t>{10}));
  auto last = last_checkpoint(*t.store());
  ASSERT_TRUE(last.has_value() && last->has_value());
  EXPECT_EQ(**last, 10);
  // _last_checkpoint was written after the checkpoint it names.
  int cp_put = 0, last_put = 0;
  for (const auto& r : s3_env().proxy->requests()) {
    if (r.n <= before || r.method != "PUT" || r.target.find(t.prefix) == std::string::npos)
      continue;
    if (r.target.find("00000000000000000010.checkpoint.parquet") != std::string::npos) cp_put = r.n;
    if (r.target.find("_last_checkpoint") != std::string::npos) last_put = r.n;
  }
  EXPECT_GT(cp_put, 0);
  EXPECT_GT(last_put, cp_put);
  // With the JSON log before the checkpoint gone, a new handle still sees every file.
  auto store = t.store();
  for (int v = 0; v < 10; ++v) ASSERT_TRUE(store->remove(commit_key(v)).is_ok());
  auto fresh = t.open();
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
  EXPECT_EQ(*(*fresh)->latest_version(), 10);
  EXPECT_EQ((*fresh)->active_files()->size(), 10u);
  json c = counted(t, **fresh);
  EXPECT_EQ(c[0]["n"], 30);
}

// Two writers (each its own handle and connections, as two processes) commit 12 epochs each
// through the proxy, whose delay on commit PUTs makes them race for the same versions.
TEST(DeltaOnS3, TwoWritersRacingForAVersionEachWinOnceAndTheLoserRetries) {
  S3Table t;
  ASSERT_TRUE(t.open().has_value());
  const auto before = s3_env().proxy->injected()["PreconditionFailed"];
  FaultScope slow([&](const ProxiedRequest& r) {
    bool commit = r.method == "PUT" &&
                  r.target.find(t.prefix + "/_delta_log/") != std::string::npos &&
                  r.target.find(".json") != std::string::npos;
    return commit ? S3Fault::delay(15) : S3Fault::none();
  });
  const int per_writer = 12;
  std::map<std::string, std::map<int64_t, int64_t>> won;  // writer -> epoch -> version
  std::map<std::string, std::set<std::string>> written;   // writer -> its add paths
  std::mutex mu;
  std::vector<std::thread> writers;
  for (int k = 0; k < 2; ++k) {
    writers.emplace_back([&, k] {
      const std::string app = "writer-" + std::to_string(k);
      auto table = t.open();
      ASSERT_TRUE(table.has_value()) << table.error().message();
      for (int e = 1; e <= per_writer; ++e) {
        auto w = (*table)->new_writer();
        ASSERT_TRUE(w->append(pin_row(k * 1000 + e)).is_ok());
        auto adds = w->finish();
        ASSERT_TRUE(adds.has_value()) << adds.error().message();
        auto c = (*table)->commit(*adds, app, e);
        ASSERT_TRUE(c.has_value()) << c.error().message();
        EXPECT_FALSE(c->skipped);
        std::lock_guard<std::mutex> lock(mu);
        won[app][e] = c->version;
        written[app].insert(adds->at(0).path);
      }
    });
  }
  for (auto& w : writers) w.join();
  // The proxy refused some conditional PUTs: the writers did race.
  EXPECT_GT(s3_env().proxy->injected()["PreconditionFailed"] - before, 0);
  // Versions 0..24, each once; every version holds the commit of the writer that won it.
  auto log = list_log(*t.store());
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->commits.size(), 1u + 2 * per_writer);
  EXPECT_EQ(*log->commits.rbegin(), 2 * per_writer);
  std::map<std::string, int> adds_seen;
  auto store = t.store();
  for (const auto& [app, epochs] : won) {
    for (const auto& [epoch, version] : epochs) {
      auto text = store->get(commit_key(version));
      ASSERT_TRUE(text.has_value());
      Snapshot one;
      ASSERT_TRUE(one.apply_commit(*text).is_ok());
      EXPECT_EQ(one.txn[app], epoch) << "version " << version << " was overwritten";
      for (const auto& [path, add] : one.active) adds_seen[path]++;
    }
  }
  for (const auto& [app, paths] : written)
    for (const auto& p : paths) EXPECT_EQ(adds_seen[p], 1) << p;
  auto fresh = t.open();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ((*fresh)->active_files()->size(), 2u * per_writer);
}

// The same epochs written cleanly on a local table and on S3 with 503 SlowDown and
// connection resets (after the request landed) at random requests: the same rows, one
// commit per epoch, nothing doubled.
TEST(DeltaOnS3, SlowDownAndResetsDuringUploadsAndCommitsEndEqualToACleanRun) {
  testing::TempDir local;
  auto clean = DeltaTable::open((local.path() / "pin").string(), "pin", pin_schema());
  ASSERT_TRUE(clean.has_value());
  S3Table t;
  auto table = t.open();
  ASSERT_TRUE(table.has_value()) << table.error().message();
  std::mt19937 rng(16);
  std::mutex rng_mu;
  std::map<std::string, int> kinds;
  FaultScope faults([&](const ProxiedRequest& r) {
    if (r.target.find(t.prefix) == std::string::npos) return S3Fault::none();
    std::lock_guard<std::mutex> lock(rng_mu);
    const auto roll = rng() % 100;
    if (roll < 10) return S3Fault::slow_down();
    if (roll < 20) return S3Fault::reset_mid_body();
    return S3Fault::none();
  });
  const auto before = s3_env().proxy->injected();
  for (int e = 1; e <= 14; ++e) {
    write_epoch(**clean, e * 100, e * 100 + 40, "app", e);
    write_epoch(**table, e * 100, e * 100 + 40, "app", e);
  }
  const auto after = s3_env().proxy->injected();
  EXPECT_GT(after.at("SlowDown") - (before.count("SlowDown") ? before.at("SlowDown") : 0), 0);
  EXPECT_GT(after.at("Reset") - (before.count("Reset") ? before.at("Reset") : 0), 0);
  s3_env().proxy->set_decide(nullptr);
  auto fresh = t.open();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(*(*fresh)->latest_version(), 14);  // one commit per epoch
  EXPECT_EQ((*fresh)->txn_version("app")->value(), 14);
  json want = duck("SELECT count(*) AS n, count(DISTINCT ind) AS d, sum(ind) AS s FROM " +
                   scan((local.path() / "pin").string(), *(*clean)->active_files()));
  EXPECT_EQ(counted(t, **fresh), want);
  EXPECT_EQ((*fresh)->active_files()->size(), 14u);
}

// A data file above the multipart threshold goes up in parts (a 503 on a part is retried);
// the table reads back whole.
TEST(DeltaOnS3, LargeDataFilesAreUploadedInPartsAndReadBackWhole) {
  S3Table t;
  objstore::StoreOptions o;
  o.multipart_threshold_bytes = 5ull << 20;
  o.part_size_bytes = 5ull << 20;
  std::shared_ptr<ObjectStore> store = proxied_store(t.prefix, o);
  TableOptions topts;
  topts.staging_dir = t.staging.path().string();
  auto table = DeltaTable::open(store, t.url(), "pin", pin_schema(), topts);
  ASSERT_TRUE(table.has_value()) << table.error().message();
  std::mt19937_64 rng(5);
  auto w = (*table)->new_writer();
  for (int64_t i = 0; i < 60000; ++i) {
    core::Row r = pin_row(i);
    std::string noise(120, 'x');
    for (auto& ch : noise) ch = static_cast<char>('a' + rng() % 26);  // incompressible
    r[1] = Value::of_string(noise);
    ASSERT_TRUE(w->append(r).is_ok());
  }
  std::atomic<int> parts{0};
  FaultScope faults([&](const ProxiedRequest& r) {
    bool part = r.method == "PUT" && r.target.find(t.prefix) != std::string::npos &&
                r.target.find("partNumber=") != std::string::npos;
    return part && ++parts == 2 ? S3Fault::slow_down() : S3Fault::none();
  });
  auto adds = w->finish();
  ASSERT_TRUE(adds.has_value()) << adds.error().message();
  ASSERT_EQ(adds->size(), 1u);
  EXPECT_GT(adds->at(0).size, int64_t{5} << 20);
  EXPECT_GE(parts.load(), 3);  // two parts and the retried one
  ASSERT_TRUE((*table)->commit(*adds, "app", 1).has_value());
  s3_env().proxy->set_decide(nullptr);
  int64_t checked = 0;
  auto fresh = t.open();
  ASSERT_TRUE(fresh.has_value());
  auto files = (*fresh)->active_files();
  ASSERT_TRUE(files.has_value());
  Snapshot snap;
  for (const auto& a : *files) snap.active[a.path] = a;
  EXPECT_TRUE(check_files(*store, snap, checked).empty());  // size and CRC-32C as written
  EXPECT_EQ(checked, 1);
  json c = counted(t, **fresh);
  EXPECT_EQ(c[0]["n"], 60000);
}

TEST(DeltaOnS3, VacuumDeletesOptimizedFilesAndOldOrphansByTheirLastModified) {
  S3Table t;
  auto table = t.open();
  ASSERT_TRUE(table.has_value()) << table.error().message();
  for (int e = 1; e <= 4; ++e) write_epoch(**table, e * 100, e * 100 + 50, "app", e);
  const json before = counted(t, **table);
  OptimizeOptions o;
  o.min_files = 2;
  auto opt = optimize_table(**table, o);
  ASSERT_TRUE(opt.has_value()) << opt.error().message();
  ASSERT_EQ(opt->removed_files, 4);
  // A data file uploaded by an epoch that never committed.
  ASSERT_TRUE(t.store()->put("part-orphan.snappy.parquet", "PAR1 never committed").is_ok());
  auto listed = t.store()->list("");
  ASSERT_TRUE(listed.has_value());
  for (const auto& obj : *listed)
    EXPECT_NEAR(static_cast<double>(obj.modified_ms), static_cast<double>(now_ms()), 600e3)
        << obj.key;
  VacuumOptions v;
  v.retention_ms = 0;
  auto r = vacuum_table(**table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 4);  // the young orphan may still be committed by a live writer
  EXPECT_EQ(r->orphans, 0);
  EXPECT_TRUE(r->end_version.has_value());
  v.now_ms = now_ms() + kMinOrphanAgeMs + 60'000;
  r = vacuum_table(**table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 1);
  EXPECT_EQ(r->orphans, 1);
  std::set<std::string> data;
  auto after = t.store()->list("");
  ASSERT_TRUE(after.has_value());
  for (const auto& obj : *after)
    if (obj.key.rfind(kLogPrefix, 0) != 0) data.insert(obj.key);
  auto live = (*table)->active_files();
  ASSERT_TRUE(live.has_value());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ(data, std::set<std::string>{data_key(live->front().path)});
  EXPECT_EQ(counted(t, **table), before);
}

TEST(DeltaOnS3, AMissingBucketIsAClearConfigurationError) {
  auto cfg = objstore::s3rver_config(s3_env().proxy->endpoint());
  cfg.bucket = "no-such-bucket-" + std::to_string(::getpid());
  std::shared_ptr<ObjectStore> store = objstore::make_s3_store(cfg, "t");
  auto t = DeltaTable::open(store, "s3://" + cfg.bucket + "/t", "pin", pin_schema());
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(t.error().message().find("NoSuchBucket"), std::string::npos) << t.error().message();
}

}  // namespace
}  // namespace pinstream::connectors::delta::test
