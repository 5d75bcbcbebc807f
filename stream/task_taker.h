// Task hand-off on the source's polling thread (SPEC section 9): for each partition a
// `tasks: partitions` member is newly assigned, whether it reads on from its own position,
// from a task checkpoint just imported, from the start, or holds the partition paused
// (task_handoff.h decides; Membership::take_partition asks).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "stream/task_checkpoint.h"
#include "stream/task_guard.h"

namespace pinstream::runtime {

class TaskTaker {
 public:
  struct Hooks {
    // The last committed epoch metadata (thread-safe).
    std::function<EpochMeta()> committed;
    // Writes the checkpoint's state and hands its metadata to the engine thread.
    std::function<core::Status(const TaskCheckpoint&, int64_t tables_epoch)> import;
  };
  TaskTaker(std::shared_ptr<TaskGuard> guard, std::unique_ptr<TaskCheckpoints> checkpoints,
            Hooks hooks);
  // Membership::take_partition. Not thread-safe (the polling thread calls it).
  core::Result<std::optional<std::string>> take(const std::string& partition_id);
  // The task went to another member: if it comes back, it is decided anew.
  void forget(int32_t task);
  // The tasks whose last decision was to hold them paused, with the reason (thread-safe: the
  // stats answer and the member's peer record read it).
  std::map<int32_t, std::string> held() const;

 private:
  void note_held(int32_t task, bool held, const std::string& reason);
  std::shared_ptr<TaskGuard> guard_;
  std::unique_ptr<TaskCheckpoints> checkpoints_;
  Hooks hooks_;
  // Tasks imported by this process -> where each of their partitions reads on ("" = from
  // the start), handed out once per partition; afterwards the source's own position holds.
  std::map<int32_t, core::Positions> imported_;
  std::map<int32_t, std::set<std::string>> handed_;
  std::map<int32_t, std::string> logged_;  // the last decision logged per task
  std::set<int32_t> gone_;                 // forgotten (given away), not imported back since
  mutable std::mutex held_mu_;
  std::map<int32_t, std::string> held_;  // of logged_, the held tasks' reasons
};

}  // namespace pinstream::runtime
