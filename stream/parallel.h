// Runs fn(0) .. fn(n - 1) on up to `max_threads` threads (the caller's included) and returns
// once all have ended. For a few independent round trips to an object store (opening the
// tables at start), which one after another cost their latencies summed.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <future>
#include <vector>

namespace pinstream::runtime {

template <typename Fn>
void for_each_index(size_t n, size_t max_threads, const Fn& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::future<void>> helpers;
  for (size_t t = 1; t < std::min(n, max_threads); ++t)
    helpers.push_back(std::async(std::launch::async, worker));
  worker();
  for (auto& h : helpers) h.get();
}

}  // namespace pinstream::runtime
