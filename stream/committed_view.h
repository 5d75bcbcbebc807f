// What a committed epoch exposes to queries: a snapshot of the state as that epoch left it,
// the epoch's metadata (counters, positions) and the engine's measurements published with
// it. The query server, the HTTP API and offline `pinstream query --config` read only this,
// so they depend on it and not on the engine that produces it.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "state/state_store.h"
#include "stream/epoch_meta.h"

namespace pinstream::runtime {

// Latency histogram with fixed bucket bounds (milliseconds), Prometheus-style cumulative.
struct LatencyHistogram {
  static constexpr double kBoundsMs[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  int64_t buckets[std::size(kBoundsMs)] = {};  // count of observations <= bound
  int64_t count = 0;
  double sum_ms = 0;
  void observe(double ms) {
    for (size_t i = 0; i < std::size(kBoundsMs); ++i)
      if (ms <= kBoundsMs[i]) ++buckets[i];
    ++count;
    sum_ms += ms;
  }
};

// What the upkeep thread (compactor.h) did since start.
struct UpkeepCounts {
  int64_t compaction_commits = 0;
  int64_t vacuum_runs = 0;                     // rounds over every table
  int64_t vacuum_files = 0, vacuum_bytes = 0;  // data files deleted
};

// Runtime measurements published with each commit (not part of the committed state).
struct EngineMetrics {
  LatencyHistogram epoch_ms;           // epoch length: first record to commit done
  LatencyHistogram commit_ms;          // commit: Parquet files, state write, Delta commits
  uint64_t state_bytes = 0;            // RocksDB's approximate on-disk size
  int64_t encode_cpu_us = 0;           // CPU time all threads spent encoding table files (rows to
                                       // Parquet pages, footers, writes), since start
  int64_t cpu_us = 0;                  // the process's CPU time since start
  UpkeepCounts upkeep;                 // auto-compaction and scheduled vacuum, since start
  std::map<std::string, int64_t> lag;  // by stream: see Source::lag()
  // Shared window tables (stream/shared_windows.h): per table, the first window waiting
  // for tasks' partials (the writer's only).
  struct WindowWait {
    std::string table;
    int64_t window_start = 0;
    std::vector<int32_t> tasks;
    int64_t windows = 0;
  };
  std::vector<WindowWait> windows_waiting;
  connectors::LagUnit lag_unit = connectors::LagUnit::kRecords;
  int32_t task_total = 0;  // the source's task_count(): the pipeline's tasks, 0 unknown
};

// A consistent view of the last committed epoch. `reader` is null before the first commit
// (and offline when the state holds none).
struct CommittedView {
  int64_t epoch = 0;
  std::shared_ptr<const state::StateStore::Reader> reader;
  EpochMeta meta;
  EngineMetrics metrics;
};

}  // namespace pinstream::runtime
