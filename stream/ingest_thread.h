// The ingest thread: the engine's second core. It polls the source and does each record's
// stateless and per-stream work (decode, clean, dedup, the cleaned table's Parquet rows),
// handing filled items to the engine thread, which joins, aggregates and commits.
// Items circulate through a small pool, so buffers are reused and at most `depth` filled
// items wait. pause() parks the thread between items: the engine uses it to commit an
// epoch while nothing else touches the source, the dedup state or the table writers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// What happened to a polled record on the ingest thread.
enum class Outcome : uint8_t { kDead, kDuplicate, kClean };

struct IngestItem {
  core::Batch batch;                            // the polled raw records
  std::vector<core::Row> rows;                  // per record: the cleaned row (kClean only)
  std::vector<Outcome> outcome;                 // per record
  std::vector<int64_t> keys;                    // per record: the dedup key (kClean, kDuplicate)
  std::vector<core::PartitionRef> new_partitions;  // the source's partitions first seen here
  bool idle = false;                            // polled nothing and the source is drained
  core::Status error;                           // the ingest thread failed and stopped
  bool empty() const { return batch.size == 0 && !idle && error.is_ok(); }
  void reset() {
    batch.clear();
    outcome.clear();
    keys.clear();
    new_partitions.clear();
    idle = false;
    error = core::Status::ok();
  }
};

class IngestThread {
 public:
  using Fill = std::function<void(IngestItem&)>;
  // `fill` runs on the thread: it resets nothing itself, the item arrives reset. Items
  // that come back empty are reused at once, never handed out.
  IngestThread(Fill fill, size_t depth);
  ~IngestThread();  // stops and joins
  IngestThread(const IngestThread&) = delete;
  IngestThread& operator=(const IngestThread&) = delete;

  void start();
  // Engine thread: the next filled item, waiting at most `timeout`; null if none came.
  IngestItem* next(std::chrono::milliseconds timeout);
  // Engine thread: gives an item back once processed.
  void release(IngestItem* item);
  // Engine thread: returns once the thread is parked between items. Items filled before
  // remain to be taken with next(); nothing new is polled until resume().
  void pause();
  void resume();

 private:
  void loop();

  Fill fill_;
  std::vector<std::unique_ptr<IngestItem>> pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<IngestItem*> free_;
  std::deque<IngestItem*> filled_;
  bool pause_ = false, busy_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace pinstream::runtime
