// The default pipeline with everything on S3 (s3rver behind the proxy that adds the
// conditional PUT): the input (PINSTREAM_FILES), the Delta tables (PINSTREAM_TABLES) and the
// checkpoints (PINSTREAM_CHECKPOINTS). A first machine reads the input present then and dies
// (its data root is gone, and so is its newest checkpoint: it died during that upload). A new
// machine with an empty data root is refused while the tables root names the first one as
// its writer; once the operator removes that claim it restores the newest stored checkpoint,
// undoes the tables' later commits and reads on to the end of the input uploaded since: the
// tables (downloaded with the AWS CLI, read with DuckDB) and views equal the same pipeline
// run on local paths.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/objstore/object_store.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/s3_shared.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBucket = "pinstream-all-s3";

TEST(AllOnS3E2E, ANewMachineGoesOnFromTheBucketAndEndsEqualToTheLocalRun) {
  auto& s3 = shared_s3(kBucket);
  ASSERT_TRUE(s3.proxy);
  PipelineRun run("ps-all-s3", /*epoch_records=*/100, /*checkpoint_every=*/2);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 600);
  // The first file of every partition is there for the first machine, the rest arrives later.
  const fs::path first = run.dir().path() / "first", later = run.dir().path() / "later";
  split_input(run.raw(), first, later);
  ASSERT_TRUE(fs::exists(later)) << "the input has one file per partition";
  std::string out;
  auto upload = [&](const fs::path& from) {
    ASSERT_EQ(run_command("/usr/bin/aws --endpoint-url " + s3.emulator->endpoint() +
                              " --region us-east-1 s3 cp --recursive --quiet '" + from.string() +
                              "' s3://" + kBucket + "/input",
                          &out),
              0)
        << out;
  };

  const fs::path local = run.dir().path() / "local";
  run.set_data(local);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;

  const std::string bucket = std::string("s3://") + kBucket;
  const fs::path machine1 = run.dir().path() / "machine1", machine2 = run.dir().path() / "machine2";
  auto run_on = [&](const fs::path& data) {
    return run_command("PINSTREAM_SOURCE=files PINSTREAM_FILES=" + bucket +
                           "/input PINSTREAM_DATA='" + data.string() + "' " +
                           pinstream_binary().string() + " run --config '" + run.config().string() +
                           "' --until-idle",
                       &out);
  };
  {
    ScopedEnv tables("PINSTREAM_TABLES", bucket + "/tables");
    ScopedEnv checkpoints("PINSTREAM_CHECKPOINTS", bucket + "/checkpoints");
    upload(first);
    ASSERT_EQ(run_on(machine1), 0) << out;
    EXPECT_FALSE(fs::exists(machine1 / "tables")) << "tables went to the local disk";
    EXPECT_FALSE(fs::exists(machine1 / "checkpoints")) << "checkpoints went to the local disk";
    // The first machine dies during its last checkpoint's upload, and with it its disk.
    std::string list;
    run.set_data(machine1);
    ASSERT_EQ(run.pinstream("checkpoints --config '" + run.config().string() + "'", &list, false),
              0)
        << list;
    ASSERT_GE(std::count(list.begin(), list.end(), '\n'), 2) << list;
    const std::string newest = list.substr(list.rfind('\n', list.size() - 2) + 1, 8);
    auto store = connectors::objstore::open_store(bucket + "/checkpoints");
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE((*store)->remove(newest + "/manifest.json").is_ok());
    fs::remove_all(machine1);

    upload(later);
    // The tables root still names the first machine as its writer: a new machine is refused
    // until the operator, sure the first one is gone, deletes the owner object (the message
    // says so); then it goes on.
    ASSERT_EQ(run_on(machine2), 2) << out;
    EXPECT_NE(out.find("_pinstream_owner to take over"), std::string::npos) << out;
    auto tables_store = connectors::objstore::open_store(bucket + "/tables");
    ASSERT_TRUE(tables_store.has_value());
    ASSERT_TRUE((*tables_store)->remove("_pinstream_owner").is_ok());
    ASSERT_EQ(run_on(machine2), 0) << out;
    EXPECT_NE(out.find("Restored state from checkpoint."), std::string::npos) << out;
    EXPECT_NE(out.find("Table restored. table="), std::string::npos) << out;
    run.set_data(machine2);
    ASSERT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
  }
  ASSERT_EQ(run_command("/usr/bin/aws --endpoint-url " + s3.emulator->endpoint() +
                            " --region us-east-1 s3 cp --recursive --only-show-errors " + bucket +
                            "/tables '" + (machine2 / "tables").string() + "'",
                        &out),
            0)
      << out;
  // Every post once: nothing lost, nothing added twice.
  for (auto [name, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                             std::pair{"user", &expected.user}}) {
    std::multiset<int64_t> want;
    for (const auto& [k, v] : *model) want.insert(k);
    EXPECT_EQ(run.keys(name), want) << name;
  }
  for (const auto& [table, cols, order] : kComparedTables) {
    run.set_data(machine2);
    const std::string got = run.rows(table, cols, order);
    run.set_data(local);
    EXPECT_EQ(got, run.rows(table, cols, order)) << table;
    EXPECT_NE(got, "[]") << table << " is empty: the comparison would prove nothing";
  }
  for (const char* v : kDefaultViews) {
    run.set_data(machine2);
    const json got = run.query(v);
    run.set_data(local);
    EXPECT_TRUE(got.value("ok", false)) << got.dump();
    EXPECT_EQ(got["rows"], run.query(v)["rows"]) << v;
  }
}

}  // namespace
}  // namespace pinstream::testing
