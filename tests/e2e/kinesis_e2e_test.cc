// The daemon on the Kinesis path, as users run it: records go into kinesalite (with our
// producer, or with `pinstream emulate --sink kinesis`), `pinstream run` reads every shard
// with PINSTREAM_SOURCE=kinesis, and the tables, counters and views equal the independent
// model and the files path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/kinesis/producer.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/support/kinesis_emulator.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;
namespace kin = connectors::kinesis;

// Every view but the windowed one: lateness is decided per source partition, and the
// emulator spreads records over Kinesis shards differently from file partitions.
const char* kViews[] = {
    "most_popular_category_by_country",   "category_count_by_year",
    "most_popular_category_by_year",      "most_followed_user_by_country",
    "country_with_most_followed_user",    "most_popular_category_by_age_group",
    "median_follower_count_by_age_group", "users_joined_by_year",
    "median_follower_count_by_join_year", "median_follower_count_by_age_group_and_join_year"};

std::string config() { return (source_dir() / "examples/pinterest/pipeline.yaml").string(); }

json query(const std::string& env, const std::string& args) {
  std::string out;
  int rc =
      run_command(env + pinstream_binary().string() + " query --config '" + config() + "' " + args,
                  &out, false);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out, nullptr, false);
}

struct Kinesalite {
  std::unique_ptr<KinesisEmulator> emu;
  std::string error;
  Kinesalite() { emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error); }
};

TEST(KinesisE2E, ShardsReadByRunMatchTheModel) {
  Kinesalite k;
  ASSERT_TRUE(k.emu) << k.error;
  TempDir dir("ps-kinesis");
  ExpectedPipeline model;
  model.write_input(dir.path() / "raw", 300);
  const std::string id = unique_name("kin");
  kin::ProducerOptions po;
  po.api.endpoint = k.emu->endpoint();
  auto producer = kin::Producer::create(po);
  ASSERT_TRUE(producer.has_value()) << producer.status().to_string();
  for (const char* s : {"pin", "geo", "user"}) {
    std::string stream = "streaming-" + id + "-" + s;
    ASSERT_TRUE((*producer)->api().create_stream(stream, 2).ok());
    ASSERT_TRUE(wait_until(
        [&] {
          std::string status;
          return (*producer)->api().stream_status(stream, status).ok() && status == "ACTIVE";
        },
        std::chrono::seconds(30)));
    // Each S3-sink partition's lines in order, keyed by their partition: per-key order holds.
    fs::path topic = dir.path() / "raw/topics" / ("pinterest." + std::string(s));
    for (int p = 0; p < 3; ++p) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(topic / ("partition=" + std::to_string(p))))
        files.push_back(e.path());
      std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() != b.string().size() ? a.string().size() < b.string().size()
                                                      : a < b;
      });
      for (const auto& f : files)
        for (const auto& line : read_lines(f))
          ASSERT_TRUE((*producer)->put(stream, "p" + std::to_string(p), line).is_ok());
    }
  }
  ASSERT_TRUE((*producer)->flush().is_ok());

  std::string env = "PINSTREAM_ID=" + id +
                    " PINSTREAM_SOURCE=kinesis PINSTREAM_KINESIS_ENDPOINT=" + k.emu->endpoint() +
                    " PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  std::string out;
  ASSERT_EQ(run_command(
                env + pinstream_binary().string() + " run --config '" + config() + "' --until-idle",
                &out),
            0)
      << out;
  json s = query(env, "--stats");
  ASSERT_TRUE(s.is_object()) << s;
  for (const auto& [name, c] : model.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["clean"], c.clean) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
  }
  for (const char* v : kViews)
    EXPECT_EQ(query(env, std::string(v) + " --format json")["rows"], model.view(v)) << v;
  // A second run finds nothing new: positions came back from the checkpointed epoch.
  ASSERT_EQ(run_command(
                env + pinstream_binary().string() + " run --config '" + config() + "' --until-idle",
                &out),
            0)
      << out;
  EXPECT_EQ(query(env, "--stats")["streams"]["pin"]["read"], model.counters["pin"].read);
}

TEST(KinesisE2E, EmulateIntoKinesisGivesTheSameViewsAsTheFilesPath) {
  Kinesalite k;
  ASSERT_TRUE(k.emu) << k.error;
  TempDir dir("ps-kinesis-emu");
  const std::string id = unique_name("emu");
  const std::string bin = pinstream_binary().string();
  std::string out;
  std::string kenv = "PINSTREAM_ID=" + id +
                     " PINSTREAM_SOURCE=kinesis PINSTREAM_KINESIS_ENDPOINT=" + k.emu->endpoint() +
                     " PINSTREAM_DATA='" + (dir.path() / "kdata").string() + "' ";
  std::string fenv = "PINSTREAM_ID=" + id + " PINSTREAM_SOURCE=files PINSTREAM_FILES='" +
                     (dir.path() / "raw").string() + "' PINSTREAM_DATA='" +
                     (dir.path() / "fdata").string() + "' ";
  ASSERT_EQ(run_command(kenv + bin + " emulate --config '" + config() +
                            "' --sink kinesis --count 400 --seed 7 --malformed-rate 0.02",
                        &out),
            0)
      << out;
  ASSERT_EQ(
      run_command(fenv + bin + " emulate --sink files --out '" + (dir.path() / "raw").string() +
                      "' --count 400 --seed 7 --malformed-rate 0.02",
                  &out),
      0)
      << out;
  ASSERT_EQ(run_command(kenv + bin + " run --config '" + config() + "' --until-idle", &out), 0)
      << out;
  ASSERT_EQ(run_command(fenv + bin + " run --config '" + config() + "' --until-idle", &out), 0)
      << out;
  json ks = query(kenv, "--stats"), fs_ = query(fenv, "--stats");
  for (const char* s : {"pin", "geo", "user"}) {
    EXPECT_EQ(ks["streams"][s]["read"], 400) << s;
    for (const char* c : {"read", "clean", "dead", "duplicates"})
      EXPECT_EQ(ks["streams"][s][c], fs_["streams"][s][c]) << s << " " << c;
  }
  EXPECT_GT(ks["streams"]["pin"]["dead"].get<int64_t>(), 0);
  EXPECT_GT(ks["streams"]["pin"]["duplicates"].get<int64_t>(), 0);
  for (const char* v : kViews) {
    json kr = query(kenv, std::string(v) + " --format json")["rows"];
    EXPECT_FALSE(kr.empty()) << v;
    EXPECT_EQ(kr, query(fenv, std::string(v) + " --format json")["rows"]) << v;
  }
}

}  // namespace
}  // namespace pinstream::testing
