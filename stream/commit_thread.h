// The commit thread: commits one sealed epoch at a time with an EpochCommitter while the
// engine thread goes on with the next epoch, and keeps the positions of the last epoch it
// committed for the ingest thread (Source::on_epoch_committed). Each call says which
// thread may make it.
#pragma once

#include <cstddef>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

#include "stream/core/status.h"
#include "stream/epoch_committer.h"

namespace pinstream::runtime {

// After a commit, whether the free memory glibc's arenas keep should go back to the kernel,
// for a process with `resident` bytes resident of which the heap uses `heap_in_use`: only over
// 128 MiB resident, and only when more than 32 MiB of it is not in the heap's use
// (commit_thread.cc says why).
bool trim_is_worth_it(size_t resident, size_t heap_in_use);

class CommitThread {
 public:
  // `committer` outlives this.
  explicit CommitThread(EpochCommitter& committer) : committer_(committer) {}
  ~CommitThread() { settle(); }
  CommitThread(const CommitThread&) = delete;
  CommitThread& operator=(const CommitThread&) = delete;

  // Engine thread: starts committing `sealed`, after wait() for the previous one.
  void start(std::shared_ptr<SealedEpoch> sealed);
  // Engine thread: waits for the commit in flight; its outcome (ok when none is running).
  core::Status wait();
  // Engine thread: waits for the commit in flight and drops its outcome (the run is ending
  // on another error, and the commit must end before the threads it uses stop).
  void settle();
  // Ingest thread: the positions of the epoch committed here since the last call, if any.
  std::optional<core::Positions> take_committed_positions();

 private:
  EpochCommitter& committer_;
  std::future<core::Status> running_;  // engine thread
  std::mutex mu_;
  std::optional<core::Positions> committed_;  // guarded by mu_
};

}  // namespace pinstream::runtime
