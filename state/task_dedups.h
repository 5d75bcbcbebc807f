// The dedup of every task of one process (SPEC section 9): one Dedup per task over its key
// prefix (task_prefix.h; task 0: the unprefixed keys of before), built on first use, with
// one bound (Dedup::Options::max_cached_keys) on the claims they all cache. Used by one
// thread (the engine's ingest thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "state/dedup.h"

namespace pinstream::state {

class TaskDedups {
 public:
  TaskDedups(StateStore& store, Dedup::Options opts);
  TaskDedups(const TaskDedups&) = delete;
  TaskDedups& operator=(const TaskDedups&) = delete;
  // Task `task`'s Dedup (its committed claims are loaded lazily, as Dedup does).
  Dedup& task(int32_t task);
  // Forgets what `task`'s Dedup cached (Dedup::forget); references to it stay valid.
  void forget(int32_t task);
  // Every task's claims of this epoch into `batch`, in task order.
  void flush(StateStore::WriteBatch& batch);
  // Whether any task's claims are past the cache (see Dedup::spilled).
  bool spilled() const;
  // Committed claims cached over all the tasks.
  size_t cached_keys() const { return cached_; }

 private:
  StateStore& store_;
  Dedup::Options opts_;
  size_t cached_ = 0;
  std::map<int32_t, std::unique_ptr<Dedup>> tasks_;
};

}  // namespace pinstream::state
