// The default pipeline with its Delta tables on S3 (PINSTREAM_TABLES=s3://..., s3rver behind
// the fault proxy that adds the conditional PUT s3rver lacks): the tables, read back with
// the AWS CLI and DuckDB, and the views equal the same run on local tables; a kill -9
// during a run, then a restart, ends equal to a clean run; a missing bucket, refused
// credentials, an unreachable endpoint and a second writer are clear one-line errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/loopback.h"
#include "tests/support/s3_shared.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kBucket = "pinstream-e2e";

// One s3rver per test binary; the pinstream processes talk to it through the proxy.
SharedS3& s3() { return shared_s3(kBucket); }

std::string s3_url(const std::string& prefix) {
  return std::string("s3://") + kBucket + "/" + prefix;
}

// PINSTREAM_TABLES for the commands run while it lives (children inherit the environment).
struct TablesRoot : ScopedEnv {
  explicit TablesRoot(const std::string& root) : ScopedEnv("PINSTREAM_TABLES", root) {}
};

// The AWS CLI, an independent client, downloads the tables into `to`.
void download(const std::string& prefix, const fs::path& to) {
  std::string out;
  ASSERT_EQ(run_command("aws --endpoint-url " + s3().emulator->endpoint() +
                            " --region us-east-1 s3 cp --recursive "
                            "--only-show-errors " +
                            s3_url(prefix) + " '" + to.string() + "'",
                        &out),
            0)
      << out;
}

// Every compared table and every view of `run` (data root `got`) equal those of `want`.
void expect_same_tables_and_views(PipelineRun& run, const fs::path& got, const fs::path& want) {
  for (const auto& [table, cols, order] : kComparedTables) {
    run.set_data(got);
    std::string a = run.rows(table, cols, order);
    run.set_data(want);
    std::string b = run.rows(table, cols, order);
    EXPECT_EQ(a, b) << table;
    EXPECT_NE(a, "[]") << table << " is empty: the comparison would prove nothing";
  }
  for (const char* v : kDefaultViews) {
    run.set_data(got);
    json a = run.query(v);
    run.set_data(want);
    json b = run.query(v);
    EXPECT_TRUE(a.value("ok", false)) << a.dump();
    EXPECT_EQ(a["rows"], b["rows"]) << v;
  }
  run.set_data(got);
}

TEST(S3Tables, TablesAndViewsEqualTheSameRunOnLocalTables) {
  ASSERT_TRUE(s3().proxy);
  PipelineRun run("pinstream-e2e-s3tables", /*epoch_records=*/100);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 1000);
  const fs::path local = run.dir().path() / "local", remote = run.dir().path() / "remote";
  std::string out;
  run.set_data(local);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  const std::string prefix = unique_name("lake");
  run.set_data(remote);
  {
    TablesRoot root(s3_url(prefix));
    ASSERT_EQ(run.run_until_idle(&out), 0) << out;
    // verify reads the tables' logs and every data file's size and CRC-32C through the store.
    ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  }
  EXPECT_FALSE(fs::exists(remote / "tables")) << "the tables went to the local disk";
  download(prefix, remote / "tables");
  std::string listing;
  run_command("ls '" + (remote / "tables/pin/_delta_log").string() + "'", &listing);
  ASSERT_TRUE(fs::exists(remote / "tables/pin/_delta_log/00000000000000000010.checkpoint.parquet"))
      << listing;
  ASSERT_TRUE(fs::exists(remote / "tables/pin/_delta_log/_last_checkpoint"));
  ASSERT_TRUE(fs::exists(remote / "tables/_pinstream_owner"));
  expect_same_tables_and_views(run, remote, local);

  // Replay from an early checkpoint restores every S3 table (a RESTORE commit) and
  // reprocesses: the same tables and views again.
  {
    TablesRoot root(s3_url(prefix));
    std::string list;
    ASSERT_EQ(run.pinstream("checkpoints --config '" + run.config().string() + "'", &list), 0)
        << list;
    ASSERT_GE(std::count(list.begin(), list.end(), '\n'), 3) << list;
    std::string second = list.substr(list.find('\n') + 1);
    const std::string id = second.substr(0, second.find(' '));
    ASSERT_EQ(run.pinstream("replay --config '" + run.config().string() + "' --from-checkpoint " +
                                id + " --until-idle",
                            &out),
              0)
        << out;
    EXPECT_NE(out.find("Table restored. table=pin"), std::string::npos) << out;
    ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  }
  fs::remove_all(remote / "tables");
  download(prefix, remote / "tables");
  expect_same_tables_and_views(run, remote, local);
}

int64_t committed_reads(const PipelineRun& run) {
  std::string out;
  if (run.pinstream("query --config '" + run.config().string() + "' --stats", &out, false) != 0)
    return 0;
  json s = json::parse(out, nullptr, false);
  int64_t n = 0;
  if (s.is_object() && s.contains("streams"))
    for (const auto& [name, c] : s["streams"].items()) n += c.value("read", int64_t{0});
  return n;
}

TEST(S3Tables, KillNineDuringUploadsAndCommitsThenRestartEqualsACleanRun) {
  ASSERT_TRUE(s3().proxy);
  PipelineRun run("pinstream-e2e-s3kill", /*epoch_records=*/60);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 1500);
  const fs::path clean = run.dir().path() / "clean", killed = run.dir().path() / "killed";
  std::string out;
  run.set_data(clean);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  const std::string prefix = unique_name("killed");
  TablesRoot root(s3_url(prefix));
  run.set_data(killed);
  std::mt19937 rng(20261130);
  const fs::path log = run.dir().path() / "daemon.log";
  int64_t last = 0;
  int progressed = 0;
  for (int round = 0; round < 6; ++round) {
    pid_t pid = run.spawn("", log);
    ASSERT_GT(pid, 0);
    // Kill -9 at a random instant once the daemon consumes (its tables opened on S3).
    ASSERT_TRUE(
        wait_until([&] { return count_in_file(log, kDaemonUp) > static_cast<size_t>(round); },
                   std::chrono::seconds(30)))
        << read_file(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 300));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int64_t now = committed_reads(run);
    if (now > last) ++progressed;
    last = now;
  }
  EXPECT_GT(progressed, 0) << read_file(log);
  int64_t total = 0;
  for (const auto& [name, c] : expected.counters) total += c.read;
  EXPECT_LT(last, total) << "the daemon finished before the kills; make the input larger";
  ASSERT_EQ(run.run_until_idle(&out), 0) << out << read_file(log);
  download(prefix, killed / "tables");
  for (auto [table, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                              std::pair{"user", &expected.user}}) {
    std::multiset<int64_t> want;
    for (const auto& [k, v] : *model) want.insert(k);
    EXPECT_EQ(run.keys(table), want) << table;
  }
  expect_same_tables_and_views(run, killed, clean);
}

TEST(S3Tables, MissingBucketRefusedCredentialsUnreachableEndpointSecondWriterAreClearErrors) {
  ASSERT_TRUE(s3().proxy);
  PipelineRun run("pinstream-e2e-s3errors");
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 10);
  std::string out;
  const std::string cmd = "run --config '" + run.config().string() + "' --until-idle";
  {
    TablesRoot root("s3://no-such-bucket-here/lake");
    EXPECT_EQ(run.pinstream(cmd, &out), 2) << out;
    EXPECT_NE(out.find("tables root s3://no-such-bucket-here/lake is not usable"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("NoSuchBucket"), std::string::npos) << out;
  }
  TablesRoot root(s3_url(unique_name("errors")));
  const std::string bin = pinstream_binary().string() + " ";
  EXPECT_EQ(run_command(run.env() + "AWS_ACCESS_KEY_ID=NOT-A-KEY " + bin + cmd, &out), 2) << out;
  EXPECT_NE(out.find("InvalidAccessKeyId"), std::string::npos) << out;
  EXPECT_NE(out.find("check the AWS credentials"), std::string::npos) << out;
  const std::string closed = "http://127.0.0.1:" + std::to_string(free_port());
  EXPECT_EQ(run_command(run.env() + "AWS_ENDPOINT_URL_S3=" + closed + " " + bin + cmd, &out), 1)
      << out;
  EXPECT_NE(out.find("check AWS_ENDPOINT_URL_S3"), std::string::npos) << out;
  // The S3 tables root is owned by its first writer: another data directory is refused.
  ASSERT_EQ(run.pinstream(cmd, &out), 0) << out;
  run.set_data(run.dir().path() / "another");
  EXPECT_EQ(run.pinstream(cmd, &out), 2) << out;
  EXPECT_NE(out.find("is owned by the pipeline writer with data directory"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace pinstream::testing
