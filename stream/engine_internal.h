// Engine internals shared by engine*.cc: per-stream and per-table runtime state and the
// schemas of the tables every pipeline has (dead letters, late records).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "stream/core/time.h"
#include "stream/delta_table_sink.h"
#include "stream/engine.h"
#include "stream/table_encoder.h"

namespace pinstream::runtime {

// Adds the calling thread's CPU time over the timer's lifetime to `sum`.
class CpuTimer {
 public:
  explicit CpuTimer(std::atomic<int64_t>& sum) : sum_(sum), start_(core::thread_cpu_micros()) {}
  ~CpuTimer() { sum_ += core::thread_cpu_micros() - start_; }
  CpuTimer(const CpuTimer&) = delete;
  CpuTimer& operator=(const CpuTimer&) = delete;

 private:
  std::atomic<int64_t>& sum_;
  int64_t start_;
};

struct Engine::TableRt {
  std::string name;
  std::unique_ptr<connectors::delta::DeltaTable> table;
  std::unique_ptr<DeltaTableSink> sink;                    // `table` as the epoch committer sees it
  std::unique_ptr<connectors::delta::TableWriter> writer;  // this epoch's staged rows
  // Written by the ingest thread (cleaned streams, dead letters), else by the engine
  // thread (late records, closed windows); each writer is touched by one thread only, or
  // by the encoder while this table has jobs queued there (`queued`).
  bool ingest_side = false;
  std::atomic<int64_t>* encode_cpu_us = nullptr;  // where flush() adds its thread CPU time
  // Rows staged for a batch append (encoded column by column), flushed every kStageRows
  // rows, while they are still in cache, and at the end of each item. A staged row must
  // stay unchanged until then, or with `encoder` until its job is done.
  static constexpr size_t kStageRows = 128;
  TableEncoder::Rows staged;
  // Set for the tables whose staged rows live in ingest items (the streams' tables): a
  // flush queues them to the encoder thread, counted in `owner`'s jobs. Null: inline.
  TableEncoder* encoder = nullptr;
  IngestItem* owner = nullptr;  // the item whose rows are being staged
  std::atomic<int> queued{0};   // this table's jobs queued to the encoder
  // Returns once the encoder is done with this table's writer; its first error.
  core::Status settle() {
    return encoder && queued.load() > 0 ? encoder->wait(queued) : core::Status::ok();
  }
  // The epoch's writer for the seal (null when no row was written), once every job queued
  // for it is done: all the epoch's rows are in its files.
  core::Result<std::unique_ptr<connectors::delta::TableWriter>> take_writer() {
    PS_RETURN_IF_ERROR(settle());
    return std::move(writer);
  }
  core::Status append(const core::Row& row) {
    PS_RETURN_IF_ERROR(settle());
    if (!writer) writer = table->new_writer();
    return writer->append(row);
  }
  core::Status stage(const core::Row& row) {
    staged.push_back(&row);
    return staged.size() >= kStageRows ? flush(false) : core::Status::ok();
  }
  // `item_end`: the item's last rows (the encoder starts on them now).
  core::Status flush(bool item_end = true) {
    if (staged.empty()) return core::Status::ok();
    if (!writer) writer = table->new_writer();
    if (encoder) {
      TableEncoder::Job job{writer.get(), std::move(staged), &queued,
                            owner ? &owner->encoding : nullptr, encode_cpu_us};
      staged.clear();
      return encoder->submit(std::move(job), staged, item_end);
    }
    CpuTimer timer(*encode_cpu_us);
    core::Status st = writer->append_rows(staged.data(), staged.size());
    staged.clear();
    return st;
  }
};

// dead_letters: stream, source, position, raw, raw_encoding ("utf8" or "base64" when the
// bytes are not valid UTF-8), reason, time (transforms/dead_letter.h bounds raw and reason).
core::Schema dead_letter_schema();
// late_records: stream, source, position, key, event_time, watermark, time. A row with
// event_time > watermark is a `future` record: watermark is then processing time + max_future.
core::Schema late_record_schema();
// join_expired: key, arrived (streams whose parts came, comma-separated), missing, event_time
// (the not-late event time the entry held, or null), first_arrival, time. The parts
// themselves stay in their streams' tables.
core::Schema join_expired_schema();

}  // namespace pinstream::runtime
