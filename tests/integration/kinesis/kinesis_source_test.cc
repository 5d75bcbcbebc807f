// The Kinesis source against real emulators (kinesalite; kinesis-local for ChildShards),
// with a fault-injecting proxy for throttling, 5xx and expired iterators.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "tests/integration/kinesis/fault_proxy.h"
#include "tests/integration/kinesis/kinesis_test_util.h"
#include "tests/support/kinesis_emulator.h"

namespace pinstream::testing {
namespace {

// Payloads of all sorts: JSON, malformed JSON, binary with NULs, a large one.
std::string payload(size_t i) {
  switch (i % 10) {
    case 3:
      return "{not json " + std::to_string(i);
    case 6:
      return std::string("\x00\xff\xfe binary ", 11) + std::to_string(i);
    case 9:
      return std::string(20000 + i, 'x');
    default:
      return "{\"ind\":" + std::to_string(i) + ",\"title\":\"t\"}";
  }
}

std::vector<KRecord> put_many(kin::Api& api, const std::string& stream, size_t from, size_t n) {
  std::vector<KRecord> out;
  for (size_t i = from; i < from + n; ++i)
    out.push_back(put_record(api, stream, std::to_string(i), payload(i)));
  return out;
}

class KinesaliteSource : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    emu_ = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
    ASSERT_TRUE(emu_) << error;
    api_ = make_api(emu_->endpoint());
  }
  std::unique_ptr<KinesisEmulator> emu_;
  std::unique_ptr<kin::Api> api_;
};

TEST_F(KinesaliteSource,
       DeliversEveryRecordOnceInShardOrderWithItsSequenceNumberAndBytesUntouched) {
  const std::string a = unique_name("kin-a"), b = unique_name("kin-b");
  create_stream(*api_, a, 3);
  create_stream(*api_, b, 2);
  auto want = put_many(*api_, a, 0, 150);
  auto want_b = put_many(*api_, b, 1000, 40);
  want.insert(want.end(), want_b.begin(), want_b.end());

  auto built = build_source(emu_->endpoint(), {a, b});
  ASSERT_TRUE(built->source->open({}).is_ok());
  auto got = consume(*built->source, want.size());
  expect_exactly_once_in_order(got, want);
  EXPECT_TRUE(built->source->drained());
  // Caught up: every shard's last MillisBehindLatest is 0.
  EXPECT_EQ(built->source->lag_unit(), connectors::LagUnit::kMillis);
  auto lag = built->source->lag();
  EXPECT_EQ(lag.size(), 5u);
  for (const auto& [idx, ms] : lag) EXPECT_EQ(ms, 0) << idx;

  // Partitions are "<stream>/<shardId>" and feed their own pipeline stream.
  EXPECT_EQ(built->source->partitions().size(), 5u);
  for (const auto& p : built->source->partitions())
    EXPECT_EQ(p.stream, p.id.rfind(a + "/", 0) == 0 ? 0u : 1u) << p.id;
  // Positions are the last sequence number of each shard, as strings.
  core::Positions expected;
  for (const auto& r : want)
    if (!expected.count(r.partition) || seq_less(expected[r.partition], r.seq))
      expected[r.partition] = r.seq;
  EXPECT_EQ(built->source->positions(), expected);
}

TEST_F(KinesaliteSource, RestartFromStoredPositionsResumesRightAfterThem) {
  const std::string s = unique_name("kin-restart");
  create_stream(*api_, s, 3);
  auto want = put_many(*api_, s, 0, 90);

  // A first run stops part-way.
  core::Positions stored;
  std::vector<KRecord> first;
  {
    auto built = build_source(emu_->endpoint(), {s});
    ASSERT_TRUE(built->source->open({}).is_ok());
    core::Batch batch;
    ASSERT_TRUE(wait_until(
        [&] {
          batch.clear();
          auto n = built->source->poll(batch, std::chrono::milliseconds(50), 7);
          for (size_t i = 0; n && i < batch.size; ++i)
            first.push_back({built->source->partitions()[batch.records[i].partition].id,
                             batch.records[i].position, batch.records[i].bytes});
          return first.size() >= 30;
        },
        std::chrono::seconds(30)));
    stored = built->source->positions();
  }
  ASSERT_LT(first.size(), want.size());
  std::vector<KRecord> rest;
  for (const auto& r : want) {
    auto it = stored.find(r.partition);
    if (it == stored.end() || seq_less(it->second, r.seq)) rest.push_back(r);
  }
  EXPECT_EQ(first.size() + rest.size(), want.size());

  // The second run delivers exactly the rest; a third, after more puts, only the new ones.
  auto second = build_source(emu_->endpoint(), {s});
  ASSERT_TRUE(second->source->open(stored).is_ok());
  expect_exactly_once_in_order(consume(*second->source, rest.size()), rest);
  auto stored2 = second->source->positions();
  auto more = put_many(*api_, s, 90, 20);
  auto third = build_source(emu_->endpoint(), {s});
  ASSERT_TRUE(third->source->open(stored2).is_ok());
  expect_exactly_once_in_order(consume(*third->source, more.size()), more);
}

// Parents of each shard, from ListShards.
std::map<std::string, std::vector<std::string>> parents_of(kin::Api& api, const std::string& s) {
  std::vector<kin::ShardInfo> shards;
  EXPECT_TRUE(api.list_shards(s, shards).ok());
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& sh : shards) {
    auto& ps = out[s + "/" + sh.shard_id];
    if (!sh.parent.empty()) ps.push_back(s + "/" + sh.parent);
    if (!sh.adjacent_parent.empty()) ps.push_back(s + "/" + sh.adjacent_parent);
  }
  return out;
}

// Every record of a child shard is delivered after every record of its parents.
void expect_parents_before_children(
    const std::vector<KRecord>& got,
    const std::map<std::string, std::vector<std::string>>& parents) {
  std::map<std::string, size_t> first, last;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!first.count(got[i].partition)) first[got[i].partition] = i;
    last[got[i].partition] = i;
  }
  size_t checked = 0;
  for (const auto& [child, ps] : parents) {
    if (!first.count(child)) continue;
    for (const auto& p : ps) {
      if (!last.count(p)) continue;
      EXPECT_LT(last[p], first[child]) << p << " before " << child;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u) << "no parent/child pair had records on both sides";
}

TEST_F(KinesaliteSource, SplitAndMergeDuringConsumptionKeepParentsBeforeChildrenAndLoseNothing) {
  const std::string s = unique_name("kin-reshard");
  create_stream(*api_, s, 2);
  auto want = put_many(*api_, s, 0, 40);
  auto built = build_source(emu_->endpoint(), {s});
  ASSERT_TRUE(built->source->open({}).is_ok());
  auto got = consume(*built->source, 0, std::chrono::milliseconds(300), 5);

  // Split shard 0 at the middle of its hash range (0 .. 2^127-1).
  nlohmann::json split = {{"StreamName", s},
                          {"ShardToSplit", "shardId-000000000000"},
                          {"NewStartingHashKey", "85070591730234615865843651857942052864"}};
  ASSERT_TRUE(api_->call("SplitShard", split.dump(), nullptr).ok());
  wait_active(*api_, s);
  auto more = put_many(*api_, s, 40, 40);
  want.insert(want.end(), more.begin(), more.end());
  auto part = consume(*built->source, 0, std::chrono::milliseconds(300), 5);
  got.insert(got.end(), part.begin(), part.end());

  // Merge the upper child of shard 0 (shard 3) with its neighbour, shard 1.
  nlohmann::json merge = {{"StreamName", s},
                          {"ShardToMerge", "shardId-000000000003"},
                          {"AdjacentShardToMerge", "shardId-000000000001"}};
  kin::ApiError e = api_->call("MergeShards", merge.dump(), nullptr);
  ASSERT_TRUE(e.ok()) << e.message;
  wait_active(*api_, s);
  more = put_many(*api_, s, 80, 40);
  want.insert(want.end(), more.begin(), more.end());
  part = consume(*built->source, want.size() - got.size());
  got.insert(got.end(), part.begin(), part.end());

  expect_exactly_once_in_order(got, want);
  auto parents = parents_of(*api_, s);
  ASSERT_EQ(parents.size(), 5u);
  EXPECT_EQ(parents[s + "/shardId-000000000004"].size(), 2u);
  expect_parents_before_children(got, parents);
}

TEST_F(KinesaliteSource,
       ThrottlingServerErrorsAndExpiredIteratorsAreRetriedWithoutLossOrDuplicates) {
  const std::string s = unique_name("kin-faults");
  create_stream(*api_, s, 3);
  auto want = put_many(*api_, s, 0, 120);
  FaultProxy proxy(emu_->port(), [](const std::string& action, int n) -> std::optional<Fault> {
    if (action == "ListShards" && n == 1) return Fault{500, "InternalFailure"};
    if (action == "GetShardIterator" && n % 3 == 1) return Fault{400, "LimitExceededException"};
    if (action != "GetRecords") return std::nullopt;
    if (n % 5 == 1) return Fault{400, "ProvisionedThroughputExceededException"};
    if (n % 5 == 3) return Fault{500, "InternalFailure"};
    if (n % 7 == 4) return Fault{400, "ExpiredIteratorException"};
    return std::nullopt;
  });
  auto built = build_source(proxy.endpoint(), {s});
  ASSERT_TRUE(built->source->open({}).is_ok());
  // Small polls so that expired iterators hit shards part-way through.
  auto got = consume(*built->source, want.size(), std::chrono::seconds(90), 9);
  expect_exactly_once_in_order(got, want);
  auto injected = proxy.injected();
  EXPECT_GT(injected["ProvisionedThroughputExceededException"], 0);
  EXPECT_GT(injected["InternalFailure"], 1);
  EXPECT_GT(injected["ExpiredIteratorException"], 0);
  EXPECT_GT(injected["LimitExceededException"], 0);
}

// An endpoint lost after every shard was read to its end (every call answered 503): the
// source is no longer drained; a bounded run (--until-idle) fails once the connect timeout
// passes without an answer, naming the endpoint; a daemon keeps retrying and is drained
// again once the endpoint answers.
TEST_F(KinesaliteSource, ALostEndpointIsNotDrainedAndFailsOnlyABoundedRunAfterTheConnectTimeout) {
  const std::string s = unique_name("kin-lost");
  create_stream(*api_, s, 2);
  auto want = put_many(*api_, s, 0, 10);
  std::atomic<bool> down{false};
  FaultProxy proxy(emu_->port(), [&](const std::string&, int) -> std::optional<Fault> {
    if (down) return Fault{503, "ServiceUnavailable"};
    return std::nullopt;
  });
  auto bounded = build_source(proxy.endpoint(), {s}, 200, "  connect_timeout_ms: 1500\n");
  auto daemon = build_source(proxy.endpoint(), {s}, 200, "  connect_timeout_ms: 1500\n");
  bounded->source->set_bounded(true);
  for (auto* b : {bounded.get(), daemon.get()}) {
    ASSERT_TRUE(b->source->open({}).is_ok());
    EXPECT_EQ(consume(*b->source, want.size()).size(), want.size());
    ASSERT_TRUE(b->source->drained());
  }
  down = true;
  core::Batch batch;
  core::Status failed;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        auto n = bounded->source->poll(batch, std::chrono::milliseconds(50), 100);
        if (!n) failed = n.error();
        EXPECT_TRUE(daemon->source->poll(batch, std::chrono::milliseconds(50), 100).has_value());
        return !n.has_value();
      },
      std::chrono::seconds(20), std::chrono::milliseconds(0)));
  EXPECT_FALSE(bounded->source->drained());
  EXPECT_FALSE(daemon->source->drained());
  EXPECT_FALSE(failed.retryable());
  EXPECT_EQ(failed.message().rfind("Kinesis at " + proxy.endpoint(), 0), 0u) << failed.message();
  EXPECT_NE(failed.message().find("unreachable for 1500 ms: "), std::string::npos)
      << failed.message();
  down = false;
  ASSERT_TRUE(wait_until(
      [&] {
        batch.clear();
        EXPECT_TRUE(daemon->source->poll(batch, std::chrono::milliseconds(50), 100).has_value());
        return daemon->source->drained();
      },
      std::chrono::seconds(20), std::chrono::milliseconds(0)));
}

TEST(KinesisLocalSource, FollowsChildShardsFromGetRecordsAfterTheParentEnds) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesisLocal, &error);
  ASSERT_TRUE(emu) << error;
  auto api = make_api(emu->endpoint());
  const std::string s = unique_name("kin-children");
  create_stream(*api, s, 1);
  auto want = put_many(*api, s, 0, 6);
  // A long refresh interval: children can only come from GetRecords' ChildShards.
  auto built = build_source(emu->endpoint(), {s}, 600000);
  ASSERT_TRUE(built->source->open({}).is_ok());
  auto got = consume(*built->source, want.size());
  ASSERT_EQ(built->source->partitions().size(), 1u);

  nlohmann::json update = {
      {"StreamName", s}, {"TargetShardCount", 2}, {"ScalingType", "UNIFORM_SCALING"}};
  kin::ApiError e = api->call("UpdateShardCount", update.dump(), nullptr);
  ASSERT_TRUE(e.ok()) << e.message;
  wait_active(*api, s);
  auto more = put_many(*api, s, 6, 6);
  want.insert(want.end(), more.begin(), more.end());
  auto rest = consume(*built->source, want.size() - got.size());
  got.insert(got.end(), rest.begin(), rest.end());

  expect_exactly_once_in_order(got, want);
  EXPECT_EQ(built->source->partitions().size(), 3u);
  expect_parents_before_children(got, parents_of(*api, s));
}

TEST(KinesisSourceConfig, RejectsUnknownSettingsAndStreamsWithoutAName) {
  auto cfg = core::parse_config_text(
      "settings: {endpoint: 'http://127.0.0.1:1', shard_refresh_intervl_ms: 5}\n"
      "good: {stream: x}\nbad: {name: x}\n",
      "t.yaml");
  ASSERT_TRUE(cfg.has_value());
  auto src = kin::make_source({{0, "pin", *cfg->get("good")}}, *cfg->get("settings"));
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message().find("shard_refresh_intervl_ms"), std::string::npos)
      << src.error().to_string();
  auto cfg2 = core::parse_config_text("bad: {name: x}\n", "t.yaml");
  src = kin::make_source({{0, "pin", *cfg2->get("bad")}}, nullptr);
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message().find("stream"), std::string::npos) << src.error().to_string();
}

}  // namespace
}  // namespace pinstream::testing
