#include "stream/commit_thread.h"

namespace pinstream::runtime {

void CommitThread::start(std::shared_ptr<SealedEpoch> sealed) {
  running_ = std::async(std::launch::async, [this, sealed = std::move(sealed)] {
    core::Status st = committer_.commit(*sealed);
    if (st.is_ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      committed_ = sealed->meta.positions;
    }
    return st;
  });
}

core::Status CommitThread::wait() {
  if (!running_.valid()) return core::Status::ok();
  return running_.get();
}

void CommitThread::settle() {
  if (running_.valid()) running_.wait();
}

std::optional<core::Positions> CommitThread::take_committed_positions() {
  std::optional<core::Positions> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(committed_);
  return out;
}

}  // namespace pinstream::runtime
