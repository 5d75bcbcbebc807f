#include "stream/commit_thread.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pinstream::runtime {

namespace {

// After each epoch's commit the free memory that glibc's arenas keep resident is given back
// to the kernel (malloc_trim) when trim_is_worth_it(), unless PINSTREAM_MALLOC_TRIM is "0".
// The epoch's page buffers, rows and RocksDB batch were freed by several threads into their
// own arenas, which otherwise keep them (up to the 32 MiB trim threshold at the top of each,
// any amount between live blocks), so peak RSS grew with the input at twice the live heap.
// Trimming after every commit cost more than it saved: on this machine's VM a page given back
// and faulted in again costs about 20 us of system time, 26% of a 1M-post run's CPU
// (bench/README.md, "Allocator: fewer pages given back").
bool trim_after_commit() {
  static const bool trim = [] {
    const char* v = std::getenv("PINSTREAM_MALLOC_TRIM");
    return !v || std::strcmp(v, "0") != 0;
  }();
  return trim;
}

// Whether the arenas' free memory should go back to the kernel now (see above).
bool worth_trimming() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return true;
  const bool read = std::fscanf(f, "%ld %ld", &pages, &resident) == 2;
  std::fclose(f);
  if (!read || resident <= 0) return true;
  const struct mallinfo2 mi = mallinfo2();
  return trim_is_worth_it(
      static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE)),
      mi.uordblks + mi.hblkhd);
}

}  // namespace

bool trim_is_worth_it(size_t resident, size_t heap_in_use) {
  constexpr size_t kTrimAbove = 128u << 20;
  constexpr size_t kTrimSlack = 32u << 20;
  // What is resident but not in the heap's use: mostly the arenas' free memory, plus the
  // binary's and libraries' resident pages.
  return resident > kTrimAbove && resident > heap_in_use + kTrimSlack;
}

void CommitThread::start(std::shared_ptr<SealedEpoch> sealed) {
  running_ = std::async(std::launch::async, [this, sealed = std::move(sealed)]() mutable {
    core::Status st = committer_.commit(*sealed);
    if (st.is_ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      committed_ = sealed->meta.positions;
    }
    if (trim_after_commit()) {
      sealed.reset();  // the epoch's buffers first, then what the arenas hold free
      if (worth_trimming()) malloc_trim(0);
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
