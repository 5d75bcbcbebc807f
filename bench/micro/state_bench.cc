// State micro-benchmarks over a real RocksDB in a temp dir: Dedup::claim, the per-record
// cost of join + the default pipeline's aggregates, and the cost of an epoch's flush.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "state/aggregates.h"
#include "state/dedup.h"
#include "state/join.h"
#include "stream/core/config.h"

namespace {
using namespace pinstream;  // NOLINT
using core::Row;
using core::Type;
using core::Value;
namespace fs = std::filesystem;

struct TempStore {
  fs::path dir;
  std::unique_ptr<state::StateStore> store;
  TempStore() {
    static int n = 0;
    dir = fs::temp_directory_path() /
          ("pinstream-state-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    store = std::move(state::StateStore::open(dir.string())).value();
  }
  ~TempStore() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The three streams as they leave cleaning + derive (derived columns carried by the parts).
std::vector<core::Schema> schemas() {
  return {core::Schema({{"ind", Type::kLong, false},
                        {"category", Type::kString, true},
                        {"poster_name", Type::kString, true},
                        {"follower_count", Type::kLong, true}}),
          core::Schema({{"ind", Type::kLong, false},
                        {"country", Type::kString, true},
                        {"timestamp", Type::kTimestamp, true},
                        {"post_year", Type::kLong, true}}),
          core::Schema({{"ind", Type::kLong, false},
                        {"age", Type::kLong, true},
                        {"age_group", Type::kString, true},
                        {"join_year", Type::kLong, true}})};
}

struct Pipeline {
  TempStore ts;
  core::ConfigNode cfg;
  std::unique_ptr<state::Join> join;
  std::unique_ptr<state::Aggregates> aggs;
  std::mt19937_64 rng{42};
  int64_t next_ind = 0;
  int64_t clock = 1577836800LL * 1000000;  // 2020-01-01
  Row parts[3], out;
  state::PartFlags flags = state::PartFlags::kNone;

  Pipeline() {
    cfg = std::move(core::load_config_file(std::string(PINSTREAM_SOURCE_DIR) +
                                           "/examples/pinterest/pipeline.yaml"))
              .value();
    join = std::move(state::Join::build(*ts.store, {"pin", "geo", "user"}, schemas(), "ind",
                                        7LL * 86400 * 1000000))
               .value();
    aggs = std::move(state::Aggregates::build(*ts.store, *cfg.find("aggregates"),
                                              join->output_schema(), "timestamp"))
               .value();
    parts[0].resize(4);
    parts[1].resize(4);
    parts[2].resize(4);
  }
  // One post: three parts through the join, the joined row through the aggregates.
  void post() {
    static const char* kCats[] = {"art",    "tech",     "food",   "travel",  "diy",
                                  "beauty", "vehicles", "quotes", "finance", "education"};
    static const char* kAges[] = {"18-24", "25-35", "36-50", "+50"};
    int64_t ind = next_ind++;
    uint64_t r = rng();
    clock += 1000000;  // one post a second of event time
    parts[0][0].set_long(ind);
    parts[0][1].set_string(kCats[r % 10]);
    parts[0][2].set_string("poster" + std::to_string((r >> 8) % 5000));
    // Like the real data ("718", "22k", "3M"): about 3,000 distinct follower counts.
    static const int64_t kScale[] = {1, 1000, 1000000};
    parts[0][3].set_long(static_cast<int64_t>(1 + (r >> 20) % 999) * kScale[(r >> 30) % 3]);
    parts[1][0].set_long(ind);
    parts[1][1].set_string("country" + std::to_string((r >> 44) % 200));
    parts[1][2].set_timestamp(clock);
    parts[1][3].set_long(2020);
    parts[2][0].set_long(ind);
    parts[2][1].set_long(18 + static_cast<int64_t>((r >> 52) % 50));
    parts[2][2].set_string(kAges[(r >> 58) % 4]);
    parts[2][3].set_long(2015 + static_cast<int64_t>((r >> 60) % 6));
    for (uint32_t s = 0; s < 3; ++s) {
      bool done = *join->add(s, ind, parts[s], state::PartFlags::kNone, clock, out, flags);
      if (done) (void)aggs->update(out, false);
    }
  }
  void flush() {
    std::map<std::string, std::vector<Row>> closed;
    (void)aggs->close_windows(clock - 600LL * 1000000, false, {}, closed);
    state::StateStore::WriteBatch b;
    join->flush(b);
    aggs->flush(b);
    (void)ts.store->write(b, true);
  }
};

// Items are raw records (three per post).
void BM_JoinAndAggregatePerRecord(benchmark::State& st) {
  Pipeline p;
  for (auto _ : st) p.post();
  st.SetItemsProcessed(st.iterations() * 3);
}
BENCHMARK(BM_JoinAndAggregatePerRecord);

// A whole epoch of N posts: updates, then one flush + synced write.
void BM_EpochWithFlush(benchmark::State& st) {
  Pipeline p;
  for (auto _ : st) {
    for (int64_t i = 0; i < st.range(0); ++i) p.post();
    p.flush();
  }
  st.SetItemsProcessed(st.iterations() * st.range(0) * 3);
}
BENCHMARK(BM_EpochWithFlush)->Arg(10000)->Arg(66000)->Unit(benchmark::kMillisecond);

// Only the flush + synced write after N posts.
void BM_EpochFlushOnly(benchmark::State& st) {
  Pipeline p;
  for (auto _ : st) {
    st.PauseTiming();
    for (int64_t i = 0; i < st.range(0); ++i) p.post();
    st.ResumeTiming();
    p.flush();
  }
}
BENCHMARK(BM_EpochFlushOnly)->Arg(10000)->Arg(66000)->Unit(benchmark::kMillisecond);

// Fresh keys, one epoch (flush + write) every 100k claims; half the claims are duplicates.
void BM_DedupClaim(benchmark::State& st) {
  TempStore ts;
  state::Dedup d(*ts.store);
  int64_t i = 0;
  for (auto _ : st) {
    int64_t key = i / 2;  // every (stream, key) twice in a row
    benchmark::DoNotOptimize(*d.claim(static_cast<uint32_t>(key % 3), key));
    if (++i % 100000 == 0) {
      state::StateStore::WriteBatch b;
      d.flush(b);
      (void)ts.store->write(b, true);
    }
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_DedupClaim);

}  // namespace

BENCHMARK_MAIN();
