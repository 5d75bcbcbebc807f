// The table encoder: a thread that Parquet-encodes staged table rows (TableWriter::append_rows)
// for the ingest and engine threads, so that the three share the machine's two cores
// instead of the ingest thread bounding the run (bench/README.md, "The encoder thread").
// Jobs run one at a time in the order they were queued, so each table's rows keep their
// order and a writer is only ever touched by this thread while it has jobs queued.
// Every job counts itself in its table's `queued` and, when its rows live in an ingest
// item, in the item's `encoding`: the thread that owns a writer waits for `queued` to drop
// to zero before it touches the writer again (a direct append, a seal); an item is reused
// only once its `encoding` is zero. The first encode error is kept: every later submit and
// wait returns it, so it reaches the run whichever thread asks first.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "connectors/delta/table.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

class TableEncoder {
 public:
  using Rows = std::vector<const core::Row*>;
  struct Job {
    connectors::delta::TableWriter* writer = nullptr;
    Rows rows;                               // unchanged until the job is done
    std::atomic<int>* queued = nullptr;      // the table's queued jobs
    std::atomic<int>* encoding = nullptr;    // the jobs of the rows' item, or null
    std::atomic<int64_t>* cpu_us = nullptr;  // gets the job's thread CPU time
  };

  TableEncoder();
  ~TableEncoder();  // cancel()
  TableEncoder(const TableEncoder&) = delete;
  TableEncoder& operator=(const TableEncoder&) = delete;

  // Queues `job` (counting it in its counters) and gives back in `spare` an empty vector
  // for the next rows. The first encode error so far instead (the job is then dropped).
  // An idle encoder is woken when `wake` (an item's last rows) or kWakeJobs are queued:
  // one wake-up per few jobs, not one per job.
  core::Status submit(Job job, Rows& spare, bool wake);
  static constexpr size_t kWakeJobs = 8;
  // Waits until `queued` is zero (every job counted there is done); the first encode error.
  core::Status wait(const std::atomic<int>& queued);
  // How often and how long wait() had to wait (threads held up by the encoder).
  struct Stats {
    int64_t jobs = 0, waits = 0, waited_us = 0;
  };
  Stats stats();
  // Cancels: queued jobs are dropped (their counters released), the running one ends and
  // the thread is joined; later submits and waits fail. For the end of a run.
  void cancel();

 private:
  void loop();
  void release(Job& job);  // with mu_ held: the job's counters
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Job> jobs_;
  std::vector<Rows> spares_;
  core::Status error_;
  bool stop_ = false, idle_ = false;
  int waiters_ = 0;
  Stats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace pinstream::runtime
