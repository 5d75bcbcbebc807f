// Decode + clean throughput of the default pipeline's three Cleaners over the real records
// in shared/data (items_per_second = records/s on one core). Rows are reused, as the
// runtime does, so this measures the warmed-up, allocation-free path.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "transforms/cleaner.h"

namespace {
using pinstream::core::ConfigNode;
using pinstream::transforms::Cleaner;

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::unique_ptr<Cleaner> default_cleaner(const std::string& stream) {
  static auto root = pinstream::core::load_config_file(std::string(PINSTREAM_SOURCE_DIR) +
                                                       "/examples/pinterest/pipeline.yaml");
  if (!root) {
    std::fprintf(stderr, "%s\n", root.error().message().c_str());
    return nullptr;
  }
  const ConfigNode* s = root->find("streams")->find(stream);
  auto c = Cleaner::build(*s->find("input"), s->find("steps"), "ind", 1 << 20);
  if (!c) {
    std::fprintf(stderr, "%s\n", c.error().message().c_str());
    return nullptr;
  }
  return std::move(*c);
}

// `hot_bytes`: cycle over the first lines up to that many bytes (they stay in the core's
// cache, as a files poll's records do); 0: all of them (pin's 2.8 MB are not).
void BM_Clean(benchmark::State& state, const std::string& stream, size_t hot_bytes) {
  auto cleaner = default_cleaner(stream);
  auto lines = read_lines(std::string(PINSTREAM_SHARED_DIR) + "/data/" + stream + ".jsonl");
  size_t kept = 0, in = 0;
  while (hot_bytes > 0 && kept < lines.size() && in < hot_bytes) in += lines[kept++].size();
  if (hot_bytes > 0) lines.resize(kept);
  if (!cleaner || lines.empty()) {
    state.SkipWithError("cannot build the cleaner or read the data");
    return;
  }
  pinstream::core::Row row;
  size_t i = 0, bytes = 0, failed = 0;
  for (auto _ : state) {
    const std::string& line = lines[i];
    failed += !cleaner->clean(line, row).is_ok();
    bytes += line.size();
    benchmark::DoNotOptimize(row.data());
    if (++i == lines.size()) i = 0;
  }
  if (failed) state.SkipWithError("a record failed to clean");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK_CAPTURE(BM_Clean, pin, std::string("pin"), 0);
BENCHMARK_CAPTURE(BM_Clean, geo, std::string("geo"), 0);
BENCHMARK_CAPTURE(BM_Clean, user, std::string("user"), 0);
BENCHMARK_CAPTURE(BM_Clean, pin_hot, std::string("pin"), 192 * 1024);
BENCHMARK_CAPTURE(BM_Clean, geo_hot, std::string("geo"), 192 * 1024);
BENCHMARK_CAPTURE(BM_Clean, user_hot, std::string("user"), 192 * 1024);

}  // namespace

BENCHMARK_MAIN();
