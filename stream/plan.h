// The compiled pipeline: every stream's cleaner, the join, its derived columns, the
// aggregates and the views, built from a PipelineConfig over a state store. The engine runs
// it; `validate` prints it; offline `query` answers views with it over read-only state.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state/aggregates.h"
#include "state/dedup.h"
#include "state/join.h"
#include "state/state_store.h"
#include "state/views.h"
#include "stream/pipeline_config.h"
#include "transforms/cleaner.h"

namespace pinstream::runtime {

struct StreamPlan {
  const StreamConfig* cfg = nullptr;
  std::unique_ptr<transforms::Cleaner> cleaner;
  int key_index = -1;
  int event_time_index = -1;
  int join_slot = -1;  // position in the join, or -1
  // The cleaned columns the join needs (the rest is never read downstream: it is not
  // copied into the join); empty: all of them.
  std::vector<size_t> join_columns;
  // Whether the ingest thread (true) or the engine thread encodes the stream's table rows.
  bool table_on_ingest = true;
};

class Plan {
 public:
  // `store` may be null: components are then built over a throw-away store (validate).
  // InvalidArgument names the file, line and key of the first problem.
  static core::Result<std::unique_ptr<Plan>> build(const PipelineConfig& cfg,
                                                   state::StateStore* store);
  ~Plan();

  std::string describe() const;
  // Task `task`'s join over its keys (state/task_prefix.h), its waiting parts loaded: the
  // same streams, key and expiry as `join` (task 0's). Errors as state::Join::build.
  core::Result<std::unique_ptr<state::Join>> build_task_join(const PipelineConfig& cfg,
                                                             state::StateStore& store,
                                                             int32_t task) const;

  std::vector<StreamPlan> streams;
  std::unique_ptr<state::Join> join;
  std::optional<transforms::StepChain> derive;
  std::unique_ptr<state::Aggregates> aggregates;
  std::unique_ptr<state::Views> views;
  int event_time_stream = -1;
  int64_t allowed_lateness_micros = 0;
  int64_t max_future_micros = 0;  // of the event-time stream (StreamConfig::max_future_ms)

 private:
  core::Status open_scratch_store();
  // The stream's cleaner and, when it carries the event time, the plan's lateness bounds.
  core::Status add_stream(const PipelineConfig& cfg, const StreamConfig& stream);
  void assign_table_threads(bool has_join);
  core::Status build_join(const PipelineConfig& cfg, state::StateStore& store);
  // The aggregates, the views and the columns the join keeps of each part.
  core::Status build_aggregates(const PipelineConfig& cfg, state::StateStore& store);

  std::unique_ptr<state::StateStore> scratch_store_;
  std::string scratch_dir_;
};

}  // namespace pinstream::runtime
