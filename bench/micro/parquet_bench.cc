// Parquet encode throughput for a pin-like schema (11 columns, ~100-byte strings): rows/s
// and MB/s of input cell bytes, with and without the string dictionary, row by row and in
// batches of 128 rows (the engine's staged appends).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "connectors/parquet/writer.h"

namespace {
using pinstream::core::Row;
using pinstream::core::Schema;
using pinstream::core::Type;
using pinstream::core::Value;

Schema pin_schema() {
  return Schema({{"ind", Type::kLong},
                 {"unique_id", Type::kString},
                 {"title", Type::kString},
                 {"description", Type::kString},
                 {"follower_count", Type::kLong},
                 {"poster_name", Type::kString},
                 {"tag_list", Type::kString},
                 {"is_image_or_video", Type::kString},
                 {"image_src", Type::kString},
                 {"save_location", Type::kString},
                 {"category", Type::kString}});
}

std::string text(uint64_t seed, size_t len) {
  std::string s(len, 'a');
  for (size_t i = 0; i < len; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    s[i] = static_cast<char>('a' + (seed >> 59) % 26);
  }
  return s;
}

std::vector<Row> make_rows(size_t n) {
  const char* cats[] = {"art",       "beauty", "christmas", "diy-and-crafts",
                        "education", "travel", "vehicles"};
  std::vector<Row> rows;
  for (size_t i = 0; i < n; ++i) {
    rows.push_back({Value::of_long(static_cast<int64_t>(i)), Value::of_string(text(i, 36)),
                    Value::of_string(text(i + 1, 100)), Value::of_string(text(i + 2, 100)),
                    Value::of_long(static_cast<int64_t>(i * 37 % 100000)),
                    Value::of_string(text(i % 500, 20)), Value::of_string(text(i + 3, 100)),
                    Value::of_string("image"),
                    Value::of_string("https://i.pinimg.com/" + text(i + 4, 80)),
                    Value::of_string("/data/" + text(i % 50, 12)), Value::of_string(cats[i % 7])});
  }
  return rows;
}

void BM_EncodePinRows(benchmark::State& state) {
  static const std::vector<Row> rows = make_rows(20000);
  size_t cell_bytes = 0;
  for (const auto& r : rows)
    for (const auto& v : r) cell_bytes += v.type == Type::kString ? v.s.size() : 8;
  std::string path = (std::filesystem::temp_directory_path() /
                      ("pinstream-bench-" + std::to_string(::getpid()) + ".parquet"))
                         .string();
  pinstream::connectors::parquet::WriterOptions opts;
  opts.dictionary = state.range(0) != 0;
  const size_t batch = static_cast<size_t>(state.range(1));  // 1: append(row); else append_rows
  std::vector<const Row*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  int64_t file_bytes = 0;
  for (auto _ : state) {
    auto w = pinstream::connectors::parquet::FileWriter::create(path, pin_schema(), opts);
    if (!w.has_value()) {
      state.SkipWithError("cannot create file");
      return;
    }
    if (batch <= 1) {
      for (const auto& r : rows) benchmark::DoNotOptimize((*w)->append(r));
    } else {
      for (size_t at = 0; at < ptrs.size(); at += batch)
        benchmark::DoNotOptimize(
            (*w)->append_rows(ptrs.data() + at, std::min(batch, ptrs.size() - at)));
    }
    if (!(*w)->close().is_ok()) {
      state.SkipWithError("close failed");
      return;
    }
    file_bytes = (*w)->bytes_written();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cell_bytes));
  state.counters["file_MB"] = static_cast<double>(file_bytes) / 1e6;
}
BENCHMARK(BM_EncodePinRows)
    ->ArgsProduct({{0, 1}, {1, 128}})
    ->ArgNames({"dictionary", "batch"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
