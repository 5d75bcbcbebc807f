// The checkpoint store's object layout over a local ObjectStore (the same code runs over S3:
// tests/integration/checkpoints), and its local hard-link layout.
#include "stream/checkpoint_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>

#include "connectors/objstore/local_store.h"
#include "stream/core/crc32c.h"
#include "stream/pipeline_config.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
namespace fs = std::filesystem;
using connectors::objstore::ObjectInfo;
using connectors::objstore::ObjectStore;

// A local store that records the keys put, in order, and fails the put of a chosen key.
// Thread-safe like every ObjectStore: a checkpoint's files are uploaded several at a time.
class RecordingStore : public ObjectStore {
 public:
  explicit RecordingStore(const std::string& root)
      : inner_(connectors::objstore::make_local_store(root)) {}
  std::string describe() const override { return inner_->describe(); }
  core::Result<std::string> get(const std::string& key,
                                std::optional<connectors::objstore::ByteRange> r) override {
    return inner_->get(key, r);
  }
  core::Result<uint64_t> size(const std::string& key) override { return inner_->size(key); }
  core::Status put(const std::string& key, std::string_view data) override {
    if (!fail_on.empty() && key.find(fail_on) != std::string::npos)
      return core::Status::unavailable("injected failure on " + key);
    {
      std::lock_guard<std::mutex> lock(mu_);
      puts->push_back(key);
    }
    return inner_->put(key, data);
  }
  core::Status put_if_absent(const std::string& key, std::string_view data) override {
    return inner_->put_if_absent(key, data);
  }
  core::Status remove(const std::string& key) override { return inner_->remove(key); }
  core::Status remove_many(const std::vector<std::string>& keys) override {
    return inner_->remove_many(keys);
  }
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix,
                                             const std::string& start_after) override {
    return inner_->list(prefix, start_after);
  }
  core::Result<std::vector<ObjectInfo>> list_temporaries(const std::string& prefix) override {
    return inner_->list_temporaries(prefix);
  }
  core::Status check() override { return inner_->check(); }

  std::shared_ptr<std::vector<std::string>> puts = std::make_shared<std::vector<std::string>>();
  std::string fail_on;

 private:
  std::mutex mu_;  // guards puts
  std::unique_ptr<ObjectStore> inner_;
};

struct Fixture {
  testing::TempDir dir{"pinstream-ckstore"};
  RecordingStore* recording = nullptr;
  std::unique_ptr<CheckpointStore> store;
  std::shared_ptr<std::vector<std::string>> puts;

  Fixture() {
    auto inner = std::make_unique<RecordingStore>((dir.path() / "bucket").string());
    recording = inner.get();
    puts = inner->puts;
    store = CheckpointStore::over(std::move(inner), (dir.path() / "scratch").string());
  }
  fs::path object(const std::string& key) const { return dir.path() / "bucket" / key; }
  std::set<std::string> keys() const {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir.path() / "bucket"))
      if (e.is_regular_file())
        out.insert(fs::relative(e.path(), dir.path() / "bucket").generic_string());
    return out;
  }
  // A checkpoint of `files` (name -> content) staged and published.
  core::Status save(int64_t epoch, const std::map<std::string, std::string>& files) {
    CheckpointManifest m;
    m.id = checkpoint_id(epoch);
    m.epoch = epoch;
    m.positions = {{"t/0", std::to_string(epoch)}};
    auto staged = store->staging_dir(m.id);
    if (!staged) return staged.error();
    fs::create_directories(*staged);
    for (const auto& [name, content] : files)
      testing::write_file(fs::path(*staged) / name, content);
    return store->publish(m);
  }
  std::vector<int64_t> epochs() {
    std::vector<int64_t> out;
    auto all = store->list();
    if (!all) return {-1};
    for (const auto& m : *all) out.push_back(m.epoch);
    return out;
  }
};

std::string sst_key(const std::string& stem, const std::string& content) {
  return "sst/" + stem + "-" + std::to_string(content.size()) + "-" +
         core::crc32c_hex(core::crc32c(content)) + ".sst";
}

const std::map<std::string, std::string> kFirst = {
    {"000010.sst", "table ten"},      {"000011.sst", "table eleven"},
    {"CURRENT", "MANIFEST-000012\n"}, {"MANIFEST-000012", "manifest"},
    {"OPTIONS-000013", "options"},    {"000014.log", "wal"}};

TEST(CheckpointStore, UploadsSstsSharedSmallFilesPerCheckpointAndTheManifestLast) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  EXPECT_EQ(f.keys(), (std::set<std::string>{
                          sst_key("000010", "table ten"), sst_key("000011", "table eleven"),
                          "00000010/state/CURRENT", "00000010/state/MANIFEST-000012",
                          "00000010/state/OPTIONS-000013", "00000010/state/000014.log",
                          "00000010/manifest.json"}));
  ASSERT_FALSE(f.puts->empty());
  EXPECT_EQ(f.puts->back(), "00000010/manifest.json");
  auto m = f.store->find("latest");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->files.size(), 6u);
  for (const auto& file : m->files) EXPECT_EQ(file.size, kFirst.at(file.name).size()) << file.name;
  EXPECT_FALSE(fs::exists(f.dir.path() / "scratch" / "00000010"));  // staging removed
}

TEST(CheckpointStore, UploadsOnlySstsTheStoreDoesNotHold) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  auto second = kFirst;
  second.erase("000010.sst");
  second["000015.sst"] = "table fifteen";
  f.puts->clear();
  ASSERT_TRUE(f.save(20, second).is_ok());
  EXPECT_EQ(f.store->last_upload().shared_skipped, 1);
  for (const auto& k : *f.puts) EXPECT_NE(k, sst_key("000011", "table eleven"));
  EXPECT_EQ(std::count(f.puts->begin(), f.puts->end(), sst_key("000015", "table fifteen")), 1);
}

TEST(CheckpointStore, ARepeatedFileNumberWithOtherContentGetsItsOwnKey) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  auto other = kFirst;
  other["000010.sst"] = "another lineage";  // after a restore the numbers start again
  ASSERT_TRUE(f.save(20, other).is_ok());
  testing::TempDir out;
  for (auto [epoch, want] : {std::pair{10, "table ten"}, std::pair{20, "another lineage"}}) {
    auto m = f.store->find(std::to_string(epoch));
    ASSERT_TRUE(m.has_value());
    auto dir = f.store->materialize(*m, (out.path() / m->id).string());
    ASSERT_TRUE(dir.has_value()) << dir.error().message();
    EXPECT_EQ(testing::read_file(fs::path(*dir) / "000010.sst"), want);
    EXPECT_EQ(testing::read_file(fs::path(*dir) / "CURRENT"), "MANIFEST-000012\n");
  }
}

TEST(CheckpointStore, RetentionKeepsEverySstAKeptManifestReferences) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  auto second = kFirst;
  second.erase("000010.sst");  // compacted away; 000011.sst lives on
  second["000015.sst"] = "table fifteen";
  ASSERT_TRUE(f.save(20, second).is_ok());
  ASSERT_TRUE(f.store->prune(1).is_ok());
  EXPECT_EQ(f.epochs(), std::vector<int64_t>{20});
  auto k = f.keys();
  EXPECT_FALSE(k.count(sst_key("000010", "table ten")));
  EXPECT_TRUE(k.count(sst_key("000011", "table eleven")));
  EXPECT_TRUE(k.count(sst_key("000015", "table fifteen")));
  EXPECT_FALSE(k.count("00000010/manifest.json"));
  EXPECT_FALSE(k.count("00000010/state/CURRENT"));
  testing::TempDir out;
  auto m = f.store->find("20");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(f.store->materialize(*m, (out.path() / "r").string()).has_value());
}

TEST(CheckpointStore, AnIncompleteUploadIsAbsentAndPruneCleansIt) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  auto later = kFirst;
  later["000020.sst"] = "table twenty";
  f.recording->fail_on = "OPTIONS";  // the upload stops after some of its files
  EXPECT_FALSE(f.save(20, later).is_ok());
  EXPECT_EQ(f.epochs(), std::vector<int64_t>{10});
  EXPECT_FALSE(f.store->has("00000020"));
  EXPECT_TRUE(f.keys().count(sst_key("000020", "table twenty")));  // uploaded before the failure
  f.recording->fail_on.clear();
  ASSERT_TRUE(f.store->prune(5).is_ok());
  for (const auto& k : f.keys()) EXPECT_EQ(k.find("00000020"), std::string::npos) << k;
  EXPECT_FALSE(f.keys().count(sst_key("000020", "table twenty")));
  EXPECT_EQ(f.epochs(), std::vector<int64_t>{10});
  EXPECT_TRUE(f.keys().count(sst_key("000010", "table ten")));
}

TEST(CheckpointStore, PruneRemovesTemporaryFilesOfKilledUploadsOnceAnHourOld) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  const auto kept = f.keys();
  // What a kill -9 during an upload leaves: the temporary file beside the object's name.
  auto leftover = [&](const std::string& key, int64_t age_s) {
    fs::path p = f.object(key);
    fs::create_directories(p.parent_path());
    testing::write_file(p, "half an upload");
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
    return p;
  };
  fs::path old_sst = leftover("sst/.000030-9-abc.sst.ps-tmp-77-1", 2 * 3600);
  fs::path old_manifest = leftover("00000030/.manifest.json.ps-tmp-77-2", 2 * 3600);
  fs::path young = leftover("sst/.000031-9-abc.sst.ps-tmp-78-1", 60);
  ASSERT_TRUE(f.store->prune(5).is_ok());
  EXPECT_FALSE(fs::exists(old_sst));
  EXPECT_FALSE(fs::exists(old_manifest));
  EXPECT_TRUE(fs::exists(young)) << "an upload of the last hour may still be going on";
  auto now = f.keys();
  now.erase(fs::relative(young, f.dir.path() / "bucket").generic_string());
  EXPECT_EQ(now, kept);
  EXPECT_EQ(f.epochs(), std::vector<int64_t>{10});
}

TEST(CheckpointStore, NeverOverwritesAKeptCheckpoint) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  auto other = kFirst;
  other["CURRENT"] = "MANIFEST-000099\n";
  ASSERT_TRUE(f.save(10, other).is_ok());
  EXPECT_EQ(testing::read_file(f.object("00000010/state/CURRENT")), "MANIFEST-000012\n");
}

TEST(CheckpointStore, ADamagedSharedFileRefusesTheRestore) {
  Fixture f;
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  testing::write_file(f.object(sst_key("000011", "table eleven")), "table elevEn");
  auto m = f.store->find("latest");
  ASSERT_TRUE(m.has_value());
  testing::TempDir out;
  auto dir = f.store->materialize(*m, (out.path() / "r").string());
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(dir.error().message().find("000011"), std::string::npos) << dir.error().message();
  fs::remove(f.object(sst_key("000010", "table ten")));
  auto problems = f.store->problems(*m);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("000010"), std::string::npos) << problems[0];
}

TEST(CheckpointStore, ALocalRootKeepsTheHardLinkLayout) {
  testing::TempDir dir;
  auto store = CheckpointStore::open((dir.path() / "cps").string(), (dir.path() / "s").string());
  ASSERT_TRUE(store.has_value());
  EXPECT_FALSE((*store)->remote());
  CheckpointManifest m;
  m.id = checkpoint_id(30);
  m.epoch = 30;
  auto staged = (*store)->staging_dir(m.id);
  ASSERT_TRUE(staged.has_value());
  EXPECT_EQ(fs::path(*staged), dir.path() / "cps" / "00000030" / "state");
  fs::create_directories(*staged);
  ASSERT_TRUE((*store)->publish(m).is_ok());
  EXPECT_TRUE(fs::exists(dir.path() / "cps" / "00000030" / "manifest.json"));
  EXPECT_EQ(*(*store)->materialize(m, "unused"), *staged);  // in place, no copy
  EXPECT_EQ((*store)->find("latest")->epoch, 30);
}

// Scale-out members share the store's root: prune removes checkpoints only, in both layouts.
TEST(CheckpointStore, PruneLeavesTheSharedNamespacesAlone) {
  Fixture f;
  ASSERT_TRUE(f.store->objects().put("tasks/p3/00000007.task", "task").is_ok());
  ASSERT_TRUE(f.store->objects().put("peers/a.json", "{}").is_ok());
  ASSERT_TRUE(f.save(10, kFirst).is_ok());
  ASSERT_TRUE(f.save(20, kFirst).is_ok());
  ASSERT_TRUE(f.store->prune(1).is_ok());
  EXPECT_EQ(f.epochs(), std::vector<int64_t>{20});
  EXPECT_TRUE(f.keys().count("tasks/p3/00000007.task"));
  EXPECT_TRUE(f.keys().count("peers/a.json"));

  testing::TempDir dir;
  auto local = CheckpointStore::open((dir.path() / "cps").string(), (dir.path() / "s").string());
  ASSERT_TRUE(local.has_value());
  ASSERT_TRUE((*local)->objects().put("tasks/p1/00000002.task", "task").is_ok());
  fs::create_directories(dir.path() / "cps" / "00000009" / "state");  // incomplete: no manifest
  ASSERT_TRUE((*local)->prune(1).is_ok());
  EXPECT_FALSE(fs::exists(dir.path() / "cps" / "00000009"));
  EXPECT_EQ(*(*local)->objects().get("tasks/p1/00000002.task"), "task");
}

TEST(CheckpointStore, TheDefaultPipelineKeepsThemUnderTheDataDirOrWherePinstreamCheckpointsSays) {
  const std::string yaml = (testing::source_dir() / "examples/pinterest/pipeline.yaml").string();
  ::setenv("PINSTREAM_DATA", "/var/ps", 1);
  auto local = load_pipeline_config(yaml);
  ::setenv("PINSTREAM_CHECKPOINTS", "s3://bucket/ckpt", 1);
  auto moved = load_pipeline_config(yaml);
  ::unsetenv("PINSTREAM_CHECKPOINTS");
  ::unsetenv("PINSTREAM_DATA");
  ASSERT_TRUE(local.has_value()) << local.error().message();
  EXPECT_EQ(local->runtime.checkpoints, "");
  EXPECT_EQ(local->runtime.checkpoints_dir(), "/var/ps/checkpoints");
  ASSERT_TRUE(moved.has_value()) << moved.error().message();
  EXPECT_EQ(moved->runtime.checkpoints_dir(), "s3://bucket/ckpt");
  auto store = open_checkpoint_store(moved->runtime.checkpoints_dir(), moved->runtime.data_dir);
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE((*store)->remote());
  EXPECT_EQ((*store)->describe(), "s3://bucket/ckpt");
}

}  // namespace
}  // namespace pinstream::runtime
