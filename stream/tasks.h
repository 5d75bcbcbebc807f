// Tasks (SPEC section 9): a task is one partition number p of the co-partitioned input
// (pin/p, geo/p, user/p, keyed by `ind`). `pipeline.tasks` says how a pipeline's input maps
// to tasks: `single` (every record in task 0, one txn appId `pinstream-<id>-g<N>` per table
// commit, as before tasks existed) or `partitions` (a Kafka partition or a files
// `partition=<p>` folder is task p; each table commit carries one txn
// `pinstream-<id>-p<p>[-g<N>]` per task). Kinesis has no partition numbers: it runs `single`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stream/core/schema.h"

namespace pinstream::runtime {

enum class TaskMode { kSingle, kPartitions };

constexpr const char* task_mode_name(TaskMode m) {
  return m == TaskMode::kPartitions ? "partitions" : "single";
}

// The task of a partition id ("<topic>/<p>", "redrive:<topic>/<p>"): p; nullopt when the id
// does not end in a partition number (a files glob, a Kinesis shard).
std::optional<int32_t> task_of_partition(const std::string& partition_id);

// The tasks of every partition in `positions`, ascending, without repeats; partitions
// without a number count as task 0. {0} when there are none.
std::vector<int32_t> tasks_of(const core::Positions& positions);

// One table commit's txn appIds: {"pinstream-<id>-g<N>"} in single mode, else one
// "pinstream-<id>-p<p>" (generation 0) or "pinstream-<id>-p<p>-g<N>" per task.
std::vector<std::string> task_app_ids(const std::string& pipeline_id, TaskMode mode,
                                      const std::vector<int32_t>& tasks, int64_t generation);

// A txn appId of this pipeline taken apart: task -1 for a single-mode appId.
struct ParsedAppId {
  int32_t task = -1;
  int64_t generation = 0;
};
// nullopt for an appId of another pipeline or writer.
std::optional<ParsedAppId> parse_app_id(const std::string& app_id, const std::string& pipeline_id);

}  // namespace pinstream::runtime
