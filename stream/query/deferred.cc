#include "stream/query/deferred.h"

#include <unistd.h>

namespace pinstream::runtime {

DeferredAnswers::DeferredAnswers(int wake_fd, size_t threads, size_t max_waiting)
    : wake_fd_(wake_fd), max_waiting_(max_waiting) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

DeferredAnswers::~DeferredAnswers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool DeferredAnswers::submit(int fd, uint64_t conn, bool close_after,
                             std::function<std::string()> compute) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_ >= max_waiting_) return false;
    ++waiting_;
    queue_.push_back(Job{Done{fd, conn, "", close_after}, std::move(compute)});
  }
  cv_.notify_one();
  return true;
}

std::vector<DeferredAnswers::Done> DeferredAnswers::take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Done> out;
  out.swap(finished_);
  waiting_ -= out.size();
  return out;
}

void DeferredAnswers::work() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.done.out = job.compute();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      finished_.push_back(std::move(job.done));
    }
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

}  // namespace pinstream::runtime
