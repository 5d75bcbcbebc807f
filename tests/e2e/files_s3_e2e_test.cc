// The default pipeline over PINSTREAM_FILES=s3://bucket/prefix on s3rver (the input made by
// `pinstream emulate --sink files` and uploaded with the AWS CLI), with local tables: every
// table and view equals the same run over the local files. The S3 run also keeps a raw
// archive on S3, which a third run reads back through the files source to the same tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/s3_emulator.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBucket = "pinstream-e2e";

// What a table's rows are compared on: columns that do not depend on the run.
struct TableCmp {
  const char* table;
  const char* columns;
  const char* order;
};
const TableCmp kTables[] = {
    {"pin", "*", "ind"},
    {"geo", "*", "ind"},
    {"user", "*", "ind"},
    {"dead_letters", "stream, source, position, reason, raw", "stream, position"},
    {"late_records", "stream, source, position, key, event_time", "stream, position"},
    {"category_count_by_hour", "*", "window_start, category"},
    {"join_expired", "key, arrived, missing, event_time", "key, arrived"},
};

// The tables and views of `data`, keyed by name.
std::map<std::string, std::string> results(PipelineRun& run, const fs::path& data) {
  run.set_data(data);
  std::map<std::string, std::string> out;
  for (const auto& t : kTables) out[t.table] = run.rows(t.table, t.columns, t.order);
  for (const char* v : kDefaultViews) {
    json answer = run.query(v);
    EXPECT_TRUE(answer.value("ok", false)) << v << ": " << answer.dump();
    out[v] = answer["rows"].dump();
  }
  return out;
}

void expect_equal(const std::map<std::string, std::string>& got,
                  const std::map<std::string, std::string>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, rows] : want) {
    EXPECT_EQ(got.at(name), rows) << what << ": " << name;
    // Parts expire unjoined only when a run outlasts the join's wait: may be empty.
    if (name != "join_expired") {
      EXPECT_NE(rows, "[]") << name << " is empty: the comparison would prove nothing";
    }
  }
}

// Adds `archive: {root: ...}` to every stream of the default pipeline.
std::string with_archive(const std::string& yaml, const std::string& root) {
  std::string out = yaml;
  const std::string line = "    archive: {root: \"" + root + "\"}\n";
  for (size_t at = 0; (at = out.find("\n    key: ind\n", at)) != std::string::npos;) {
    out.insert(at + 1, line);
    at += 1 + line.size() + 12;
  }
  return out;
}

TEST(FilesOnS3E2E, TheDefaultPipelineOverS3EqualsTheRunOverLocalFiles) {
  std::string error;
  auto s3 = S3Emulator::start({kBucket}, &error);
  ASSERT_TRUE(s3) << error;
  set_s3rver_environment(s3->endpoint());
  PipelineRun run("ps-s3files");
  const std::string bin = pinstream_binary().string();
  std::string out;
  ASSERT_EQ(run_command(bin + " emulate --sink files --out '" + run.raw().string() +
                            "' --count 600 --seed 11 --malformed-rate 0.02",
                        &out),
            0)
      << out;
  const std::string input = std::string("s3://") + kBucket + "/input";
  ASSERT_EQ(run_command("/usr/bin/aws --endpoint-url " + s3->endpoint() +
                            " --region us-east-1 s3 cp --recursive --quiet '" + run.raw().string() +
                            "' " + input,
                        &out),
            0)
      << out;

  const fs::path local = run.dir().path() / "local", remote = run.dir().path() / "remote",
                 replayed = run.dir().path() / "from-archive";
  run.set_data(local);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;

  // Over S3, archiving every raw record to S3 as it goes.
  const std::string archive = std::string("s3://") + kBucket + "/archive";
  const fs::path archived_config = run.dir().path() / "archived.yaml";
  write_file(archived_config, with_archive(read_file(run.config()), archive));
  const std::string s3env = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + input +
                            "' PINSTREAM_DATA='" + remote.string() + "' ";
  ASSERT_EQ(
      run_command(s3env + bin + " run --config '" + archived_config.string() + "' --until-idle",
                  &out),
      0)
      << out;

  // The archive read back from S3 by the default pipeline.
  const std::string aenv = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + archive +
                           "' PINSTREAM_DATA='" + replayed.string() + "' ";
  ASSERT_EQ(
      run_command(aenv + bin + " run --config '" + run.config().string() + "' --until-idle", &out),
      0)
      << out;
  std::string listing;
  ASSERT_EQ(run_command("/usr/bin/aws --endpoint-url " + s3->endpoint() +
                            " --region us-east-1 s3 ls --recursive " + archive + "/topics/",
                        &listing),
            0)
      << listing;
  EXPECT_NE(listing.find("pinterest.pin/partition=0/pinterest.pin+0+0.json"), std::string::npos)
      << listing;

  const auto want = results(run, local);
  expect_equal(results(run, remote), want, "files on S3");
  expect_equal(results(run, replayed), want, "raw archive on S3 read back");
}

// Raw records per stream ("pin" for topic "pinterest.pin") in the files under `dir`.
std::map<std::string, int64_t> lines_per_stream(const fs::path& dir) {
  std::map<std::string, int64_t> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    const std::string topic = f.path().parent_path().parent_path().filename().string();
    const std::string text = read_file(f.path());
    out[topic.substr(topic.rfind('.') + 1)] += std::count(text.begin(), text.end(), '\n');
  }
  return out;
}

// --available-now over S3 fixes its ends from the listing at start: a first run reads exactly
// the objects listed then, a second run the objects uploaded since, and together they equal
// the run over all the local files.
TEST(FilesOnS3E2E, AvailableNowReadsWhatWasListedAtStartThenTheRest) {
  std::string error;
  auto s3 = S3Emulator::start({kBucket}, &error);
  ASSERT_TRUE(s3) << error;
  set_s3rver_environment(s3->endpoint());
  PipelineRun run("ps-s3files-now");
  const std::string bin = pinstream_binary().string();
  std::string out;
  ExpectedPipeline model;
  model.write_input(run.raw(), 400);
  // The first file of every partition now, the others after the first run.
  const fs::path first = run.dir().path() / "first", later = run.dir().path() / "later";
  split_input(run.raw(), first, later);
  ASSERT_TRUE(fs::exists(later)) << "the input has one file per partition";
  const std::string input = std::string("s3://") + kBucket + "/now";
  auto upload = [&](const fs::path& from) {
    ASSERT_EQ(run_command("/usr/bin/aws --endpoint-url " + s3->endpoint() +
                              " --region us-east-1 s3 cp --recursive --quiet '" + from.string() +
                              "' " + input,
                          &out),
              0)
        << out;
  };
  const fs::path local = run.dir().path() / "local", remote = run.dir().path() / "remote";
  run.set_data(local);
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;

  const fs::path summary = run.dir().path() / "summary.json";
  const std::string cmd = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + input +
                          "' PINSTREAM_DATA='" + remote.string() + "' " + bin + " run --config '" +
                          run.config().string() + "' --available-now --summary '" +
                          summary.string() + "'";
  for (const fs::path& part : {first, later}) {
    upload(part);
    ASSERT_EQ(run_command(cmd, &out), 0) << out;
    const json s = json::parse(read_file(summary), nullptr, false);
    for (const auto& [stream, n] : lines_per_stream(part))
      EXPECT_EQ(s["streams"][stream]["read"], n) << part << " " << stream << ": " << s.dump();
  }
  expect_equal(results(run, remote), results(run, local), "--available-now over S3 in two runs");
}

TEST(FilesOnS3E2E, AMissingBucketIsExitTwoWithTheS3CodeAndNoEndpointExitOne) {
  std::string error;
  auto s3 = S3Emulator::start({kBucket}, &error);
  ASSERT_TRUE(s3) << error;
  set_s3rver_environment(s3->endpoint());
  PipelineRun run("ps-s3files-errors");
  const std::string cmd =
      pinstream_binary().string() + " run --config '" + run.config().string() + "' --until-idle";
  const std::string data = "PINSTREAM_DATA='" + run.data().string() + "' ";
  std::string out;
  EXPECT_EQ(run_command(
                "PINSTREAM_SOURCE=files PINSTREAM_FILES=s3://no-such-bucket/x " + data + cmd, &out),
            2)
      << out;
  EXPECT_NE(out.find("NoSuchBucket"), std::string::npos) << out;
  EXPECT_NE(out.find("pipeline.yaml:"), std::string::npos) << out;
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(free_port());
  EXPECT_EQ(run_command("AWS_ENDPOINT_URL_S3=" + nowhere +
                            " PINSTREAM_SOURCE=files "
                            "PINSTREAM_FILES=s3://" +
                            std::string(kBucket) + "/x " + data + cmd,
                        &out),
            1)
      << out;
  EXPECT_NE(out.find("AWS_ENDPOINT_URL_S3"), std::string::npos) << out;
}

}  // namespace
}  // namespace pinstream::testing
