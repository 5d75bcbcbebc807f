// The emulator's Kinesis sink: topics map to the pipeline's stream names, missing streams
// are created, and every record arrives keyed by ind.
#include "stream/emulator/kinesis_sink.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/integration/kinesis/kinesis_test_util.h"
#include "tests/support/kinesis_emulator.h"

namespace pinstream::testing {
namespace {
namespace em = runtime::emulator;

TEST(KinesisEmulatorSink, MapsTopicsToThePipelineStreamNames) {
  EXPECT_EQ(em::kinesis_stream_for_topic("pinterest.pin"), "streaming-pinterest-pin");
  EXPECT_EQ(em::kinesis_stream_for_topic("a.b.geo"), "streaming-a-b-geo");
}

TEST(KinesisEmulatorSink, CreatesMissingStreamsAndDeliversEveryRecord) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
  ASSERT_TRUE(emu) << error;
  auto sink = em::make_kinesis_sink({emu->endpoint(), "", /*create_streams=*/true, 2});
  ASSERT_TRUE(sink.has_value()) << sink.status().to_string();
  const std::string id = unique_name("sinktest");
  std::multiset<std::string> sent;
  for (int64_t i = 0; i < 700; ++i) {
    em::Record r{"pin", i, "{\"index\":" + std::to_string(i) + "}"};
    sent.insert(r.json);
    ASSERT_TRUE((*sink)->send(id + ".pin", r).is_ok());
  }
  ASSERT_TRUE((*sink)->flush().is_ok());
  auto built = build_source(emu->endpoint(), {em::kinesis_stream_for_topic(id + ".pin")});
  ASSERT_TRUE(built->source->open({}).is_ok());
  std::multiset<std::string> got;
  for (const auto& r : consume(*built->source, sent.size())) got.insert(r.bytes);
  EXPECT_EQ(got, sent);
  EXPECT_EQ(built->source->partitions().size(), 2u);
}

}  // namespace
}  // namespace pinstream::testing
