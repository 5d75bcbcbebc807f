#include "stream/table_encoder.h"

#include "stream/core/time.h"

namespace pinstream::runtime {

TableEncoder::TableEncoder() {
  thread_ = std::thread([this] { loop(); });
}

TableEncoder::~TableEncoder() { cancel(); }

core::Status TableEncoder::submit(Job job, Rows& spare, bool wake_now) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spares_.empty()) {
      spare = std::move(spares_.back());
      spares_.pop_back();
    }
    if (!error_.is_ok()) return error_;  // also after cancel()
    ++*job.queued;
    if (job.encoding) ++*job.encoding;
    jobs_.push_back(std::move(job));
    wake = idle_ && (wake_now || jobs_.size() >= kWakeJobs);
  }
  if (wake) work_cv_.notify_one();
  return core::Status::ok();
}

core::Status TableEncoder::wait(const std::atomic<int>& queued) {
  std::unique_lock<std::mutex> lock(mu_);
  if (queued.load() == 0) return error_;
  const auto t0 = std::chrono::steady_clock::now();
  ++waiters_;
  if (idle_) work_cv_.notify_one();  // its jobs may be queued without a wake-up yet
  done_cv_.wait(lock, [&] { return queued.load() == 0; });
  --waiters_;
  stats_.waits++;
  stats_.waited_us +=
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  return error_;
}

TableEncoder::Stats TableEncoder::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void TableEncoder::release(Job& job) {
  --*job.queued;
  if (job.encoding) --*job.encoding;
  job.rows.clear();
  spares_.push_back(std::move(job.rows));
}

void TableEncoder::cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    for (auto& job : jobs_) release(job);
    jobs_.clear();
    // Rows dropped or not: a writer waited for after this is never taken as complete.
    if (error_.is_ok()) error_ = core::Status::internal("the table encoder was stopped");
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// The thread's CPU time is read when it starts a run of jobs for one counter and when it
// has no job left or goes to another counter, not around each job: reading it is a system call
// (about 3 us here), and a realistic run queues thousands of small jobs.
void TableEncoder::loop() {
  std::atomic<int64_t>* counting = nullptr;  // the counter the CPU since `cpu0` goes to
  int64_t cpu0 = 0;
  auto count = [&](std::atomic<int64_t>* next) {
    if (next == counting) return;
    const int64_t now = counting || next ? core::thread_cpu_micros() : 0;
    if (counting) *counting += now - cpu0;
    counting = next;
    cpu0 = now;
  };
  while (true) {
    Job job;
    bool failed = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_ = true;
      work_cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      idle_ = false;
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      failed = !error_.is_ok();
    }
    core::Status st;
    if (!failed) {  // after an error the run fails: the rows are dropped, not encoded
      count(job.cpu_us);
      st = job.writer->append_rows(job.rows.data(), job.rows.size());
    }
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!st.is_ok() && error_.is_ok()) error_ = st;
      if (jobs_.empty()) count(nullptr);  // before a waiter sees its last job done
      release(job);
      stats_.jobs++;
      wake = waiters_ > 0;
    }
    if (wake) done_cv_.notify_all();
  }
}

}  // namespace pinstream::runtime
