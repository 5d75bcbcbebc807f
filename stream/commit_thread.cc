#include "stream/commit_thread.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace pinstream::runtime {

namespace {

// After each epoch's commit, malloc_trim(0) gives the kernel the free pages of every glibc
// arena, unless PINSTREAM_MALLOC_TRIM is "0": the epoch's page buffers, rows and RocksDB
// batch were freed by several threads into their own arenas, which otherwise keep them
// (up to the 32 MiB trim threshold at the top of each, any amount between live blocks), so
// that peak RSS grew with the input at twice the live heap (bench/README.md, "Allocator").
bool trim_after_commit() {
  static const bool trim = [] {
    const char* v = std::getenv("PINSTREAM_MALLOC_TRIM");
    return !v || std::strcmp(v, "0") != 0;
  }();
  return trim;
}

}  // namespace

void CommitThread::start(std::shared_ptr<SealedEpoch> sealed) {
  running_ = std::async(std::launch::async, [this, sealed = std::move(sealed)]() mutable {
    core::Status st = committer_.commit(*sealed);
    if (st.is_ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      committed_ = sealed->meta.positions;
    }
    if (trim_after_commit()) {
      sealed.reset();  // the epoch's buffers first, then what the arenas hold free
      malloc_trim(0);
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
