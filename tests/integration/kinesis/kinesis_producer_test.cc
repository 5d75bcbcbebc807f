// The PutRecords producer: batches of ≤ 500 records, throttled calls retried, everything
// readable back through the source exactly once.
#include <gtest/gtest.h>

#include "connectors/kinesis/producer.h"
#include "tests/integration/kinesis/fault_proxy.h"
#include "tests/integration/kinesis/kinesis_test_util.h"
#include "tests/support/kinesis_emulator.h"

namespace pinstream::testing {
namespace {

TEST(KinesisProducer, SendsBatchesOfAtMost500AndRetriesThrottledCallsUntilAllLand) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
  ASSERT_TRUE(emu) << error;
  auto api = make_api(emu->endpoint());
  const std::string s = unique_name("kin-producer");
  create_stream(*api, s, 2);
  FaultProxy proxy(emu->port(), [](const std::string& action, int n) -> std::optional<Fault> {
    if (action == "PutRecords" && n % 2 == 1)
      return Fault{400, "ProvisionedThroughputExceededException"};
    return std::nullopt;
  });
  kin::ProducerOptions options;
  options.api.endpoint = proxy.endpoint();
  options.backoff_base = std::chrono::milliseconds(5);
  auto producer = kin::Producer::create(options);
  ASSERT_TRUE(producer.has_value()) << producer.status().to_string();
  std::multiset<std::string> sent;
  for (int i = 0; i < 1200; ++i) {
    std::string data = "{\"ind\":" + std::to_string(i) + "}";
    sent.insert(data);
    ASSERT_TRUE((*producer)->put(s, std::to_string(i), data).is_ok());
  }
  ASSERT_TRUE((*producer)->flush().is_ok());
  EXPECT_EQ((*producer)->records_sent(), 1200u);
  // 3 batches (500, 500, 200), each throttled once.
  EXPECT_EQ((*producer)->calls(), 6u);
  EXPECT_EQ(proxy.injected()["ProvisionedThroughputExceededException"], 3);

  auto built = build_source(emu->endpoint(), {s});
  ASSERT_TRUE(built->source->open({}).is_ok());
  auto got = consume(*built->source, sent.size());
  std::multiset<std::string> received;
  for (const auto& r : got) received.insert(r.bytes);
  EXPECT_EQ(received, sent);
}

TEST(KinesisProducer, SplitsBatchesAtFiveMebibytes) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
  ASSERT_TRUE(emu) << error;
  auto api = make_api(emu->endpoint());
  const std::string s = unique_name("kin-big");
  create_stream(*api, s, 1);
  kin::ProducerOptions options;
  options.api.endpoint = emu->endpoint();
  auto producer = kin::Producer::create(options);
  ASSERT_TRUE(producer.has_value());
  // 12 records of 900 KiB: at most 5 fit in one 5 MiB call.
  for (int i = 0; i < 12; ++i)
    ASSERT_TRUE((*producer)
                    ->put(s, std::to_string(i), std::string(900 << 10, static_cast<char>('a' + i)))
                    .is_ok());
  ASSERT_TRUE((*producer)->flush().is_ok());
  EXPECT_EQ((*producer)->calls(), 3u);
  auto built = build_source(emu->endpoint(), {s});
  ASSERT_TRUE(built->source->open({}).is_ok());
  auto got = consume(*built->source, 12);
  ASSERT_EQ(got.size(), 12u);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(got[static_cast<size_t>(i)].bytes,
              std::string(900 << 10, static_cast<char>('a' + i)));
}

}  // namespace
}  // namespace pinstream::testing
