#include "stream/pipeline_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "stream/epoch_meta.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {

core::Result<PipelineConfig> parse(const std::string& yaml) {
  auto root = core::parse_config_text(yaml, "p.yaml");
  if (!root) return root.error();
  return parse_pipeline_config(std::make_shared<core::ConfigNode>(std::move(*root)), "p.yaml");
}

const char* kMinimal = R"(source:
  kind: files
  files: {root: /tmp/x}
streams:
  a:
    source: {files: {topic: t.a}, kafka: {topic: t.a}}
    key: id
    input: {id: long}
)";

TEST(PipelineConfig, DefaultPipelineLoadsWithEnvironmentDeployment) {
  ::setenv("PINSTREAM_SOURCE", "files", 1);
  ::setenv("PINSTREAM_FILES", "/data/raw", 1);
  ::setenv("PINSTREAM_ID", "acme", 1);
  ::setenv("PINSTREAM_DATA", "/var/ps", 1);
  auto cfg =
      load_pipeline_config((testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
  ::unsetenv("PINSTREAM_SOURCE");
  ::unsetenv("PINSTREAM_FILES");
  ::unsetenv("PINSTREAM_ID");
  ::unsetenv("PINSTREAM_DATA");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->id, "acme");
  EXPECT_EQ(cfg->source_kind, "files");
  EXPECT_EQ(cfg->runtime.data_dir, "/var/ps");
  EXPECT_EQ(cfg->runtime.socket_path(), "/var/ps/pinstream.sock");
  EXPECT_EQ(cfg->tables.root, "/var/ps/tables");
  ASSERT_EQ(cfg->streams.size(), 3u);
  EXPECT_EQ(cfg->streams[0].name, "pin");
  EXPECT_EQ(cfg->streams[0].source->find("topic")->scalar(), "acme.pin");
  EXPECT_EQ(cfg->streams[1].event_time, "timestamp");
  EXPECT_EQ(cfg->streams[1].allowed_lateness_ms, 600000);
  EXPECT_TRUE(cfg->has_join);
  EXPECT_EQ(cfg->join.streams, (std::vector<std::string>{"pin", "geo", "user"}));
  // PINSTREAM_TABLES moves the tables root; unset, it is <data>/tables (above).
  ::setenv("PINSTREAM_TABLES", "/mnt/shared/tables", 1);
  auto moved =
      load_pipeline_config((testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
  ::unsetenv("PINSTREAM_TABLES");
  ASSERT_TRUE(moved.has_value()) << moved.error().message();
  EXPECT_EQ(moved->tables.root, "/mnt/shared/tables");
}

TEST(PipelineConfig, MinimalConfigUsesDocumentedDefaults) {
  auto cfg = parse(kMinimal);
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->runtime.epoch_interval_ms, 1000);
  EXPECT_EQ(cfg->runtime.checkpoint_every_epochs, 10);
  EXPECT_EQ(cfg->runtime.checkpoint_retention, 20);
  EXPECT_EQ(cfg->runtime.max_record_bytes, 1 << 20);
  EXPECT_FALSE(cfg->has_join);
  EXPECT_EQ(cfg->tasks, TaskMode::kSingle);
}

TEST(PipelineConfig, TasksAreSingleOrPartitionsAndKinesisRunsSingle) {
  auto cfg = parse("pipeline: {tasks: partitions}\n" + std::string(kMinimal));
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->tasks, TaskMode::kPartitions);
  EXPECT_NE(cfg->describe().find("tasks: one per partition number"), std::string::npos);
  auto single = parse("pipeline: {tasks: single}\n" + std::string(kMinimal));
  ASSERT_TRUE(single.has_value()) << single.error().message();
  EXPECT_EQ(single->tasks, TaskMode::kSingle);
  auto bad = parse("pipeline: {tasks: shards}\n" + std::string(kMinimal));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "p.yaml:1:19: key 'pipeline.tasks': unknown tasks mode 'shards' (expected single or "
            "partitions)");
  auto kinesis = parse(
      "pipeline: {tasks: partitions}\nsource: {kind: kinesis, kinesis: {endpoint: x}}\n"
      "streams:\n  a:\n    source: {kinesis: {stream: s}}\n    key: id\n    input: {id: long}\n");
  ASSERT_FALSE(kinesis.has_value());
  EXPECT_NE(kinesis.error().message().find(
                "p.yaml:1:19: key 'pipeline.tasks': tasks: partitions needs numbered partitions"),
            std::string::npos)
      << kinesis.error().message();
  EXPECT_EQ(kinesis.error().code(), core::StatusCode::kInvalidArgument);
}

TEST(PipelineConfig, ErrorsNameFileLineColumnAndKey) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  std::vector<Case> cases = {
      {std::string(kMinimal) + "runtime: {epoch_interval_ms: -5}\n",
       "p.yaml:9:30: key 'runtime.epoch_interval_ms': must be a positive integer"},
      {std::string(kMinimal) + "runtime: {epoch_interval_ms: soon}\n",
       "key 'runtime.epoch_interval_ms': expected an integer, got 'soon'"},
      {std::string(kMinimal) + "extra: 1\n", "p.yaml:9:8: key 'extra': unknown key 'extra'"},
      {"source: {kind: pigeon}\nstreams: {}\n", "key 'source.kind': unknown source kind 'pigeon'"},
      {"source: {kind: kinesis}\nstreams:\n  a:\n    source: {files: {topic: x}}\n    key: id\n    "
       "input: {id: long}\n",
       "has no settings for source kind 'kinesis'"},
      {std::string(kMinimal) + "join: {streams: [a, b], key: id}\n",
       "key 'join.streams': unknown stream 'b'"},
      {std::string(kMinimal) + "aggregates: {}\n", "aggregates and views need a `join`"},
      {std::string(kMinimal) + "    archive: /tmp/a\n",
       "p.yaml:9:14: key 'streams.a.archive': expected a map {root, topic}"},
      {std::string(kMinimal) + "    archive: {root: /tmp/a, bucket: b}\n",
       "key 'streams.a.archive.bucket': unknown key 'bucket'"},
      {std::string(kMinimal) + "    archive: {root: /tmp/a, topic: a/b}\n",
       "archive topic must be a non-empty name without '/' or '+'"},
      {std::string(kMinimal) + "    archive: {root: /tmp/x/archive}\n",
       "overlaps the files source root /tmp/x"},
      {std::string(kMinimal) + "tables: {commit_every: 0}\n",
       "p.yaml:9:24: key 'tables.commit_every': must be a positive integer"},
      {std::string(kMinimal) + "tables: {commit_every: 1801}\n",
       "key 'tables.commit_every': commit_every x runtime.epoch_interval_ms must stay within 30 "
       "minutes"},
      {std::string(kMinimal) + "tables: {upkeep: {vacuum_interval: 0s}}\n",
       "key 'tables.upkeep.vacuum_interval': '0s' is not a duration"},
  };
  for (const auto& c : cases) {
    auto cfg = parse(c.yaml);
    ASSERT_FALSE(cfg.has_value()) << c.yaml;
    EXPECT_NE(cfg.error().message().find(c.message), std::string::npos)
        << "got: " << cfg.error().message() << "\nwant: " << c.message;
    EXPECT_EQ(cfg.error().code(), core::StatusCode::kInvalidArgument);
  }
}

TEST(PipelineConfig, TablesRootTakesAnS3UrlAndRefusesAMalformedOne) {
  auto cfg = parse(std::string(kMinimal) + "tables: {root: \"s3://my-bucket/lake/\"}\n");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->tables.root, "s3://my-bucket/lake");
  struct Case {
    std::string root, message;
  };
  for (const Case& c : std::vector<Case>{
           {"s3://B_ad/x", "p.yaml:9:16: key 'tables.root': bad S3 bucket name in s3://B_ad/x"},
           {"s3://", "key 'tables.root': bad S3 bucket name"},
           {"gs://bucket/x", "key 'tables.root': unsupported tables root gs://bucket/x"}}) {
    auto bad = parse(std::string(kMinimal) + "tables: {root: \"" + c.root + "\"}\n");
    ASSERT_FALSE(bad.has_value()) << c.root;
    EXPECT_NE(bad.error().message().find(c.message), std::string::npos) << bad.error().message();
    EXPECT_EQ(bad.error().code(), core::StatusCode::kInvalidArgument);
  }
}

TEST(PipelineConfig, ArchiveTopicDefaultsToTheActiveSourcesTopic) {
  auto cfg = parse(std::string(kMinimal) + "    archive: {root: /tmp/elsewhere}\n");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->streams[0].archive_root, "/tmp/elsewhere");
  EXPECT_EQ(cfg->streams[0].archive_topic, "t.a");
}

TEST(EpochMeta, RoundTripsThroughJson) {
  EpochMeta m;
  m.epoch = 42;
  m.generation = 3;
  m.pipeline_id = "pinterest";
  m.positions = {{"pinterest.pin/0", "f+0+0.json:17"},
                 {"s/shardId-000", "49590338271490256608559692538361571095921575989136588898"}};
  m.counters["pin"] = {10, 7, 2, 1, 0};
  m.event_time_max["pinterest.geo/1"] = 1'600'000'000'000'000;
  m.archive_next["pinterest.pin/0"] = 18;
  m.pending["pin"] = {R"({"path":"a.parquet"})"};
  auto back = EpochMeta::from_json(m.to_json());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->epoch, 42);
  EXPECT_EQ(back->app_id(), "pinstream-pinterest-g3");
  EXPECT_EQ(back->positions, m.positions);
  EXPECT_EQ(back->counters["pin"].read, 10);
  EXPECT_TRUE(back->counters["pin"].balanced());
  EXPECT_EQ(back->event_time_max, m.event_time_max);
  EXPECT_EQ(back->archive_next, m.archive_next);
  EXPECT_EQ(back->pending, m.pending);
  EXPECT_FALSE(EpochMeta::from_json("{not json").has_value());
  // Single mode writes neither the mode nor task counters (the JSON of before tasks).
  EXPECT_EQ(m.to_json().find("task"), std::string::npos);
  EXPECT_EQ(back->tasks, TaskMode::kSingle);
}

TEST(EpochMeta, TasksModeAndTaskCountersRoundTrip) {
  EpochMeta m;
  m.pipeline_id = "pinterest";
  m.generation = 2;
  m.tasks = TaskMode::kPartitions;
  m.positions = {{"pinterest.pin/0", "1"}, {"pinterest.geo/4", "1"}};
  m.task_counters[4]["geo"] = {5, 3, 1, 1, 2};
  auto back = EpochMeta::from_json(m.to_json());
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->tasks, TaskMode::kPartitions);
  EXPECT_EQ(back->task_counters[4]["geo"].dead, 1);
  EXPECT_EQ(back->task_counters[4]["geo"].late, 2);
  EXPECT_EQ(back->app_ids(),
            (std::vector<std::string>{"pinstream-pinterest-p0-g2", "pinstream-pinterest-p4-g2"}));
  std::string bad = m.to_json();
  bad.replace(bad.find("\"partitions\""), 12, "\"shards\"");
  EXPECT_FALSE(EpochMeta::from_json(bad).has_value());
}

}  // namespace
}  // namespace pinstream::runtime

namespace pinstream::runtime {
namespace {

TEST(PipelineConfig, HttpOffLoopbackNeedsAToken) {
  ::unsetenv("PINSTREAM_HTTP_TOKEN");
  auto open = parse(std::string(kMinimal) + "runtime:\n  http: {listen: \"127.0.0.1:8080\"}\n");
  ASSERT_TRUE(open.has_value()) << open.error().message();
  EXPECT_EQ(open->runtime.http_listen, "127.0.0.1:8080");
  auto refused = parse(std::string(kMinimal) + "runtime:\n  http:\n    listen: \"0.0.0.0:8080\"\n");
  ASSERT_FALSE(refused.has_value());
  const std::string& msg = refused.error().message();
  EXPECT_NE(msg.find("p.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("listen"), std::string::npos) << msg;
  EXPECT_NE(msg.find("token"), std::string::npos) << msg;
  auto with_token =
      parse(std::string(kMinimal) + "runtime:\n  http: {listen: \"0.0.0.0:8080\", token: t}\n");
  ASSERT_TRUE(with_token.has_value()) << with_token.error().message();
  EXPECT_EQ(with_token->runtime.http_token, "t");
  ::setenv("PINSTREAM_HTTP_TOKEN", "from-env", 1);
  auto env = parse(std::string(kMinimal) + "runtime:\n  http: {listen: \"0.0.0.0:8080\"}\n");
  ::unsetenv("PINSTREAM_HTTP_TOKEN");
  ASSERT_TRUE(env.has_value()) << env.error().message();
  EXPECT_EQ(env->runtime.http_token, "from-env");
  EXPECT_FALSE(parse(std::string(kMinimal) + "runtime:\n  http: {listen: nope}\n").has_value());
  EXPECT_FALSE(
      parse(std::string(kMinimal) + "runtime:\n  http: {lisen: \"127.0.0.1:1\"}\n").has_value());
}

}  // namespace
}  // namespace pinstream::runtime
