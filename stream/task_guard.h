// Until tasks can move between processes (task hand-off, SPEC section 9), a task has one
// writer for good. A process of a `pipeline.tasks: partitions` group that is assigned a
// partition it holds no position for checks the shared tables first: when a table already
// holds the task's txn (`pinstream-<id>-p<p>[-g<N>]`), another member (or this data
// directory before it lost its state) committed it, and reading it from its start would
// double its rows, so the task is refused instead: the Kafka source holds it paused in a
// daemon (its owner takes it back when it returns), and a bounded run fails (exit 1).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "connectors/source.h"
#include "stream/pipeline_config.h"

namespace pinstream::runtime {

class TaskGuard {
 public:
  TaskGuard(std::shared_ptr<connectors::objstore::ObjectStore> tables_root, std::string root,
            std::vector<std::string> tables, std::string pipeline_id);
  ~TaskGuard();
  // OK when no table holds a txn of the partition's task; Internal naming the task, the
  // table and its txn otherwise, or the store's error when a table cannot be read.
  // Not thread-safe (the source's polling thread calls it).
  core::Status may_start_fresh(const std::string& partition_id);
  // The newest txn version any table holds for `task` (V; nullopt: none), or the store's
  // error. Not thread-safe either.
  core::Result<std::optional<int64_t>> tables_epoch(int32_t task);

 private:
  struct Handles;
  // Table `name`'s txns (none when it does not exist yet).
  core::Result<std::map<std::string, int64_t>> txns_of(const std::string& name);
  std::shared_ptr<connectors::objstore::ObjectStore> store_;
  std::string root_, pipeline_id_;
  std::vector<std::string> tables_;
  std::unique_ptr<Handles> handles_;
};

// Whether other processes may commit tasks of this pipeline to its tables: `tasks:
// partitions` over a Kafka consumer group (not `source.kafka.partitions: all`, where one
// process reads every partition); consistency.h, StateFacts::shared_tasks.
bool shares_tasks(const PipelineConfig& cfg);

// Where this process keeps its whole-state checkpoints. Members sharing tasks share one
// checkpoint store (its `tasks/` objects hand tasks over) but not their checkpoints, whose
// ids (epochs) would collide: theirs go under `members/<instance id>/` of a configured
// `runtime.checkpoints` (the Kafka group.instance.id the member joins with, as
// connectors/kafka computes it). Otherwise runtime.checkpoints_dir().
std::string member_checkpoints_dir(const PipelineConfig& cfg);
// The instance id of this member, as the Kafka source joins with it:
// source.kafka.group_instance_id, else $PINSTREAM_INSTANCE_ID, else
// <group>-<host>-<hash of the data directory>.
std::string member_instance(const PipelineConfig& cfg);

// The membership the engine tells its source (Source::set_membership): the tasks mode, the
// data directory as member hint, and in `partitions` mode a TaskGuard over `tables`.
connectors::Membership source_membership(
    const PipelineConfig& cfg, std::shared_ptr<connectors::objstore::ObjectStore> tables_root,
    std::vector<std::string> tables);

}  // namespace pinstream::runtime
