#include "state/task_state.h"

#include <string>

#include "state/task_prefix.h"

namespace pinstream::state {

bool key_of_task(std::string_view key, int32_t task) {
  if (task > 0) return key.starts_with(task_prefix(task));
  return !key.starts_with("meta/") && !task_of_key(key);
}

core::Status scan_task(const StateStore::Reader& reader, int32_t task,
                       const std::function<bool(std::string_view, std::string_view)>& fn) {
  if (task > 0) return reader.scan(task_prefix(task), fn);
  return reader.scan(
      "", [&](std::string_view k, std::string_view v) { return !key_of_task(k, 0) || fn(k, v); });
}

core::Status delete_task(const StateStore::Reader& reader, int32_t task,
                         StateStore::WriteBatch& batch) {
  if (task > 0) {
    // "t<p>/" up to "t<p>0": '0' follows '/', so the range is exactly the prefix's keys.
    const std::string begin = task_prefix(task);
    std::string end = begin;
    end.back() = static_cast<char>('/' + 1);
    batch.delete_range(begin, end);
    return core::Status::ok();
  }
  return scan_task(reader, 0, [&](std::string_view k, std::string_view) {
    batch.del(k);
    return true;
  });
}

}  // namespace pinstream::state
