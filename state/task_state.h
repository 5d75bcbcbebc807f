// A task's whole state as key ranges of the one RocksDB (SPEC section 9, task hand-off):
// task p > 0 owns every key under "t<p>/"; task 0 owns every key that is neither under
// "meta/" (the runtime's, global) nor under another task's prefix, whatever its kind
// (dedup, join, aggregates, windows, and any kind added later), so that moving a task to
// another process carries all of it.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "state/state_store.h"

namespace pinstream::state {

// Whether `key` belongs to `task`'s state.
bool key_of_task(std::string_view key, int32_t task);

// Calls fn(key, value) in key order for every key of `task` in `reader` until fn returns
// false. The reader's error (IoError/Corruption) otherwise.
core::Status scan_task(const StateStore::Reader& reader, int32_t task,
                       const std::function<bool(std::string_view, std::string_view)>& fn);

// Adds to `batch` the deletion of every key of `task` (a range for p > 0; task 0's keys one by
// one as `reader` lists them, since they share the key space with the global ones).
core::Status delete_task(const StateStore::Reader& reader, int32_t task,
                         StateStore::WriteBatch& batch);

}  // namespace pinstream::state
