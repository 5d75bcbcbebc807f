// The ingest thread: the engine's second core. It polls the source and does each record's
// stateless and per-stream work (decode, clean, dedup, the cleaned table's Parquet rows),
// handing filled items to the engine thread, which joins, aggregates and commits.
// Items circulate through a small pool, so buffers are reused and at most `depth` filled
// items wait. An epoch ends with a seal item: asked for with request_seal(), the thread
// hands over its side of the epoch (staged table rows, source positions, dedup claims) in
// place of a poll and goes on with the next epoch, so the engine thread, which meets the
// seal after every item before it, never has to stop it. pause() parks the thread between
// items (the last epoch, and a seal that must wait for its state write).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/delta/table.h"
#include "state/state_store.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// What happened to a polled record on the ingest thread.
enum class Outcome : uint8_t { kDead, kDuplicate, kClean };

// The ingest thread's side of an epoch, taken at a seal.
struct IngestSeal {
  std::map<std::string, std::unique_ptr<connectors::delta::TableWriter>> writers;  // by table
  core::Positions positions;            // the source's, after the epoch's last record
  std::map<std::string, int64_t> lag;   // by stream (see EngineMetrics)
  state::StateStore::WriteBatch batch;  // the epoch's dedup claims
  // Claims in `batch` are invisible to dedup until written: the thread parked itself
  // after this seal and must be resumed once the batch is written.
  bool parked = false;
  // Asked for with request_seal(then_park = true): the thread parked after it for good;
  // the run ends with this epoch. (A seal asked for earlier may still come before it.)
  bool last = false;
  // Asked for with request_hand_off_seal(): the thread parked after it (`parked` is set);
  // the epoch is committed at once and the tasks published before it goes on.
  bool hand_off = false;
};

struct IngestItem {
  core::Batch batch;                               // the polled raw records
  std::vector<core::Row> rows;                     // per record: the cleaned row (kClean only)
  std::vector<Outcome> outcome;                    // per record
  std::vector<int64_t> keys;                       // per record: the dedup key (kClean, kDuplicate)
  std::vector<core::PartitionRef> new_partitions;  // the source's partitions first seen here
  bool idle = false;                               // polled nothing and the source is drained
  core::Status error;                              // the ingest thread failed and stopped
  std::unique_ptr<IngestSeal> seal;                // a seal item: no records
  // Jobs queued to the table encoder with rows of this item (stream/table_encoder.h):
  // the item is not reused before they are done.
  std::atomic<int> encoding{0};
  bool warm = false;  // filled before: its buffers hold memory (ingest thread)
  bool empty() const {
    return batch.size == 0 && new_partitions.empty() && !idle && error.is_ok() && !seal;
  }
  void reset() {
    seal.reset();
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
  // `fill(item, seal)` runs on the thread with a reset item: it polls into it, or with
  // `seal` set fills item.seal instead. Items that come back empty are reused at once,
  // never handed out.
  using Fill = std::function<void(IngestItem&, bool seal)>;
  IngestThread(Fill fill, size_t depth);
  ~IngestThread();  // stops and joins
  IngestThread(const IngestThread&) = delete;
  IngestThread& operator=(const IngestThread&) = delete;

  // Before start(): `wait(item)` runs on the thread before a free item is reused and
  // returns once the item's rows are no longer read elsewhere (its `encoding` jobs done).
  void set_reuse_wait(std::function<void(const IngestItem&)> wait) {
    reuse_wait_ = std::move(wait);
  }
  void start();
  // Engine thread: the next filled item, waiting at most `timeout`; null if none came.
  IngestItem* next(std::chrono::milliseconds timeout);
  // Engine thread: gives an item back once processed.
  void release(IngestItem* item);
  // Engine thread: returns once the thread is parked between items. Items filled before
  // remain to be taken with next(); nothing new is polled until resume().
  void pause();
  void resume();
  // Engine thread: the next item filled will be a seal (once per request); with `then_park`
  // the thread parks after it, as it also does after a seal with `parked` set.
  void request_seal(bool then_park);
  // Engine thread: the next item filled will be a seal that ends the epoch for a task
  // hand-off (IngestSeal::hand_off); the thread parks after it until resume().
  void request_hand_off_seal();

 private:
  void loop();
  IngestItem* take_free();  // with mu_ held

  Fill fill_;
  std::function<void(const IngestItem&)> reuse_wait_;
  std::vector<std::unique_ptr<IngestItem>> pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<IngestItem*> free_;
  std::deque<IngestItem*> filled_;
  bool pause_ = false, busy_ = false, stop_ = false;
  bool seal_ = false, park_after_seal_ = false, hand_off_ = false;
  std::thread thread_;
};

}  // namespace pinstream::runtime
