// Faults that make the state and the tables disagree (issue 14, item 4), injected into real
// runs of the binary over S3-sink files: the state directory lost, its write-ahead log
// truncated or corrupted, a checkpoint's write-ahead log damaged, a table's newest Delta
// commit deleted or emptied, a data file deleted or corrupted, and a second writer on the
// same tables root. Each ends equal to a clean run, or refused with the expected one line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

struct Env {
  TempDir dir{"pinstream-consistency"};
  ExpectedPipeline expected;
  fs::path config;

  // The default pipeline over `keys` keys, small epochs, a checkpoint every 2 epochs (its
  // tables root is PINSTREAM_TABLES when set, else <data>/tables).
  explicit Env(size_t keys, int epoch_records = 100) {
    expected.write_input(dir.path() / "raw", keys);
    std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
    replace(yaml, "epoch_max_records: 200000",
            "epoch_max_records: " + std::to_string(epoch_records) +
                "\n  poll_batch: " + std::to_string(epoch_records / 2));
    replace(yaml, "checkpoint_every_epochs: 10", "checkpoint_every_epochs: 2");
    config = dir.path() / "pipeline.yaml";
    write_file(config, yaml);
  }
  static void replace(std::string& s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
  }
  fs::path data() const { return dir.path() / "data"; }
  fs::path table(const std::string& name) const { return data() / "tables" / name; }
  std::string env(const fs::path& data_dir) const {
    return "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
           "' PINSTREAM_DATA='" + data_dir.string() + "' ";
  }
  int pinstream(const std::string& args, std::string* out) const {
    return run_command(env(data()) + pinstream_binary().string() + " " + args, out);
  }
  std::string cfg() const { return "--config '" + config.string() + "'"; }
  void run_until_idle() const {
    std::string out;
    ASSERT_EQ(pinstream("run " + cfg() + " --until-idle", &out), 0) << out;
  }
  // Keys in a table, with multiplicity.
  std::multiset<int64_t> keys(const std::string& name) const { return table_keys(table(name)); }
  // The cleaned tables and a few views equal what a clean run over the whole input gives.
  void expect_equal_to_a_clean_run() const {
    for (auto [name, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                               std::pair{"user", &expected.user}}) {
      std::multiset<int64_t> want;
      for (const auto& [k, v] : *model) want.insert(k);
      EXPECT_EQ(keys(name), want) << name;
    }
    for (const char* v :
         {"most_popular_category_by_country", "median_follower_count_by_age_group"}) {
      std::string out;
      ASSERT_EQ(run_command(env(data()) + pinstream_binary().string() + " query " + cfg() + " " +
                                v + " --format json",
                            &out, false),
                0)
          << out;
      json a = json::parse(out, nullptr, false);
      ASSERT_TRUE(a.is_object() && a.value("ok", false)) << out;
      EXPECT_EQ(a["rows"], expected.view(v)) << v;
    }
  }
  // The largest RocksDB write-ahead log in `state_dir`.
  static fs::path wal(const fs::path& state_dir) {
    fs::path best;
    uintmax_t size = 0;
    for (const auto& e : fs::directory_iterator(state_dir))
      if (e.path().extension() == ".log" && e.file_size() > size) {
        best = e.path();
        size = e.file_size();
      }
    return best;
  }
  // Commit files of a table's log, oldest first.
  std::vector<fs::path> commits(const std::string& name) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(table(name) / "_delta_log"))
      if (e.path().extension() == ".json" && e.path().filename().string().size() == 25)
        out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// The command after "repair with: " in a refusal.
std::string repair_command(const std::string& out) {
  size_t at = out.find("repair with: ");
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at + 13, end == std::string::npos ? std::string::npos : end - at - 13);
}

void overwrite(const fs::path& p, std::streamoff at, const std::string& bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Consistency, CleanRunVerifies) {
  Env e(300);
  e.run_until_idle();
  std::string out;
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 0) << out;
  EXPECT_EQ(out.rfind("ok: ", 0), 0u) << out;
}

// The checks must not refuse what a crash legitimately leaves: kill -9 at random instants
// (during epochs, commits and checkpoints), then a run ends equal to a clean one and verify
// finds nothing.
TEST(Consistency, KillNineAtRandomInstantsIsNeverRefused) {
  Env e(600, 10);
  std::mt19937 rng(14014);
  const fs::path log = e.dir.path() / "daemon.log";
  for (int round = 0; round < 14; ++round) {
    pid_t pid = ::fork();
    if (pid == 0) {
      std::string cmd = "exec env " + e.env(e.data()) + pinstream_binary().string() + " run " +
                        e.cfg() + " >>'" + log.string() + "' 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + rng() % 200));  // a random instant
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  EXPECT_EQ(read_file(log).find("pinstream: "), std::string::npos) << read_file(log);
  e.run_until_idle();
  e.expect_equal_to_a_clean_run();
  std::string out;
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 0) << out;
}

TEST(Consistency, LostStateDirThenNewInputIsRefusedWithTheReplayThatRepairsIt) {
  Env e(400);
  // The second file of every partition arrives after the state is lost.
  std::vector<std::pair<fs::path, fs::path>> later;
  for (const auto& f : fs::recursive_directory_iterator(e.dir.path() / "raw"))
    if (f.is_regular_file() && f.path().filename().string().find("+0.json") == std::string::npos)
      later.push_back({f.path(), e.dir.path() / ("later-" + std::to_string(later.size()))});
  ASSERT_FALSE(later.empty());
  for (const auto& [from, to] : later) fs::rename(from, to);
  e.run_until_idle();
  fs::remove_all(e.data() / "state");
  for (const auto& [from, to] : later) fs::rename(to, from);
  std::string out;
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_NE(out.find("state and tables disagree"), std::string::npos) << out;
  EXPECT_NE(out.find("the state was lost"), std::string::npos) << out;
  std::string cmd = repair_command(out);
  ASSERT_EQ(cmd.rfind("pinstream replay --config " + e.config.string() + " --from-checkpoint ", 0),
            0u)
      << out;
  ASSERT_EQ(
      run_command(e.env(e.data()) + pinstream_binary().string() + cmd.substr(9) + " --until-idle",
                  &out),
      0)
      << out;
  e.expect_equal_to_a_clean_run();
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 0) << out;
}

TEST(Consistency, ReplayAfterTheStateWasLostTakesAGenerationNewToTheTables) {
  Env e(200);
  e.run_until_idle();
  std::string out;
  ASSERT_EQ(e.pinstream("replay " + e.cfg() + " --from-checkpoint 0 --until-idle", &out), 0)
      << out;  // generation 1
  fs::remove_all(e.data() / "state");
  // Checkpoint 0 is of generation 0: reusing generation 1 would skip every replayed epoch.
  ASSERT_EQ(e.pinstream("replay " + e.cfg() + " --from-checkpoint 0 --until-idle", &out), 0) << out;
  e.expect_equal_to_a_clean_run();
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 0) << out;
}

TEST(Consistency, TruncatedWriteAheadLogIsRefusedAndTheReplayRepairsIt) {
  Env e(300);
  e.run_until_idle();
  fs::path wal = Env::wal(e.data() / "state");
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) / 3);
  std::string out;
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_NE(out.find("state and tables disagree"), std::string::npos) << out;
  std::string cmd = repair_command(out);
  ASSERT_FALSE(cmd.empty()) << out;
  ASSERT_EQ(
      run_command(e.env(e.data()) + pinstream_binary().string() + cmd.substr(9) + " --until-idle",
                  &out),
      0)
      << out;
  e.expect_equal_to_a_clean_run();
}

TEST(Consistency, CorruptWriteAheadLogIsRefused) {
  Env e(300);
  e.run_until_idle();
  fs::path wal = Env::wal(e.data() / "state");
  ASSERT_FALSE(wal.empty());
  overwrite(wal, static_cast<std::streamoff>(fs::file_size(wal) / 2), std::string(64, '\xff'));
  std::string out;
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_NE(out.find("repair with: pinstream replay"), std::string::npos) << out;
}

TEST(Consistency, ReplayFromACheckpointWithADamagedWriteAheadLogIsRefused) {
  Env e(300);
  e.run_until_idle();
  std::string list;
  ASSERT_EQ(e.pinstream("checkpoints " + e.cfg(), &list), 0) << list;
  std::string second = list.substr(list.find('\n') + 1);  // the first after checkpoint 0
  std::string id = second.substr(0, second.find(' '));
  fs::path wal = Env::wal(e.data() / "checkpoints" / id / "state");
  ASSERT_FALSE(wal.empty()) << id;
  fs::resize_file(wal, fs::file_size(wal) / 3);
  auto before = e.keys("pin");
  std::string out;
  EXPECT_EQ(e.pinstream("replay " + e.cfg() + " --from-checkpoint " + id + " --until-idle", &out),
            3)
      << out;
  EXPECT_NE(out.find("checkpoint " + id + " is damaged"), std::string::npos) << out;
  EXPECT_NE(out.find("--from-checkpoint 00000000"), std::string::npos) << out;
  EXPECT_EQ(e.keys("pin"), before);  // nothing was restored
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 1) << out;
  EXPECT_NE(out.find("checkpoint " + id + " is damaged"), std::string::npos) << out;
}

TEST(Consistency, DeletedNewestDeltaCommitIsRedoneOrRefused) {
  Env e(300);
  e.run_until_idle();
  auto commits = e.commits("pin");
  ASSERT_GE(commits.size(), 3u);
  fs::remove(commits.back());
  // Redone when it was the last epoch's commit (the state still holds its actions), else
  // refused naming the file: never a silent loss.
  std::string out;
  int rc = e.pinstream("run " + e.cfg() + " --until-idle", &out);
  if (rc == 0) {
    e.expect_equal_to_a_clean_run();
  } else {
    EXPECT_EQ(rc, 3) << out;
    EXPECT_NE(out.find("Delta commit " + commits.back().string() + " is missing"),
              std::string::npos)
        << out;
  }
}

TEST(Consistency, DeletedNewestDeltaCommitsAreRefusedNamingTheFile) {
  Env e(300);
  e.run_until_idle();
  auto commits = e.commits("pin");
  ASSERT_GE(commits.size(), 3u);
  fs::remove(commits.back());
  fs::remove(commits[commits.size() - 2]);
  std::string out;
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_NE(out.find("Delta commit " + commits[commits.size() - 2].string() + " is missing"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("repair with: pinstream replay"), std::string::npos) << out;
}

TEST(Consistency, EmptiedNewestDeltaCommitIsRefusedNamingTheFile) {
  Env e(300);
  e.run_until_idle();
  auto commits = e.commits("pin");
  ASSERT_GE(commits.size(), 2u);
  fs::resize_file(commits.back(), 0);
  std::string out;
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_NE(out.find("Delta commit " + commits.back().string() + " of table pin is empty"),
            std::string::npos)
      << out;
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 1) << out;
  EXPECT_NE(out.find(commits.back().string() + " is empty"), std::string::npos) << out;
}

TEST(Consistency, DeletedOrCorruptDataFileIsNamedByVerify) {
  Env e(300);
  e.run_until_idle();
  DeltaSnapshot geo = read_delta_log(e.table("geo")), user = read_delta_log(e.table("user"));
  ASSERT_FALSE(geo.files.empty());
  ASSERT_FALSE(user.files.empty());
  fs::remove(geo.files.front());
  overwrite(user.files.front(), 100, "\x01\x02\x03");
  std::string out;
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 1) << out;
  EXPECT_NE(out.find("data file " + geo.files.front() + " is missing"), std::string::npos) << out;
  EXPECT_NE(out.find("data file " + user.files.front() + " is corrupt"), std::string::npos) << out;
}

TEST(Consistency, DeletedDataFileIsNamedByVerifyAndRefusedBeforeARedoCommitsIt) {
  Env e(300);
  e.run_until_idle();
  auto commits = e.commits("pin");
  std::string victim;
  for (const auto& l : read_lines(commits.back())) {
    json j = json::parse(l, nullptr, false);
    if (j.is_object() && j.contains("add"))
      victim = (e.table("pin") / j["add"]["path"].get<std::string>()).string();
  }
  ASSERT_FALSE(victim.empty()) << commits.back();
  fs::remove(victim);
  std::string out;
  // The data file of a commit that landed: the run goes on, verify names the file.
  EXPECT_EQ(e.pinstream("verify " + e.cfg(), &out), 1) << out;
  EXPECT_NE(out.find("data file " + victim + " is missing"), std::string::npos) << out;
  // A crash between the state write and the Delta commit (the commit file gone, as if never
  // written), with the data file lost too: the redo would commit a missing file. Refused,
  // naming the file when it is the last epoch's, else the missing commit.
  fs::remove(commits.back());
  EXPECT_EQ(e.pinstream("run " + e.cfg() + " --until-idle", &out), 3) << out;
  EXPECT_TRUE(
      out.find("data file " + victim + " is missing (written by epoch ") != std::string::npos ||
      out.find("Delta commit " + commits.back().string() + " is missing") != std::string::npos)
      << out;
  EXPECT_NE(out.find("repair with: pinstream replay"), std::string::npos) << out;
}

TEST(Consistency, SecondWriterWithAnotherDataDirOnTheSameTablesRootIsRefused) {
  Env e(100);
  e.run_until_idle();
  std::string out;
  std::string other = e.env(e.dir.path() / "other-data") + "PINSTREAM_TABLES='" +
                      (e.data() / "tables").string() + "' ";
  EXPECT_EQ(
      run_command(other + pinstream_binary().string() + " run " + e.cfg() + " --until-idle", &out),
      2)
      << out;
  const fs::path owner = fs::weakly_canonical(e.data());
  EXPECT_NE(out.find(" is owned by the pipeline writer with data directory " + owner.string()),
            std::string::npos)
      << out;
  // The owner itself goes on.
  e.run_until_idle();
}

}  // namespace
}  // namespace pinstream::testing
