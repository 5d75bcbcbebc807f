#include "stream/task_guard.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "connectors/delta/log_store.h"
#include "connectors/delta/table.h"
#include "connectors/kafka/kafka_settings.h"
#include "stream/tasks.h"

namespace pinstream::runtime {
namespace delta = connectors::delta;

struct TaskGuard::Handles {
  std::map<std::string, std::unique_ptr<delta::DeltaTable>> open;
};

TaskGuard::TaskGuard(std::shared_ptr<connectors::objstore::ObjectStore> tables_root,
                     std::string root, std::vector<std::string> tables, std::string pipeline_id)
    : store_(std::move(tables_root)),
      root_(std::move(root)),
      pipeline_id_(std::move(pipeline_id)),
      tables_(std::move(tables)),
      handles_(std::make_unique<Handles>()) {}

TaskGuard::~TaskGuard() = default;

core::Result<std::map<std::string, int64_t>> TaskGuard::txns_of(const std::string& name) {
  auto& handle = handles_->open[name];
  if (!handle) {
    auto opened =
        delta::DeltaTable::open_existing(delta::sub_store(store_, name), root_ + "/" + name, name);
    if (!opened && opened.error().code() == core::StatusCode::kNotFound)
      return std::map<std::string, int64_t>();
    if (!opened) return opened.error();
    handle = std::move(*opened);
  }
  return handle->txn_versions();
}

core::Result<std::optional<int64_t>> TaskGuard::tables_epoch(int32_t task) {
  std::optional<int64_t> newest;
  for (const auto& name : tables_) {
    PS_ASSIGN_OR_RETURN(auto txns, txns_of(name));
    for (const auto& [app, version] : txns) {
      auto parsed = parse_app_id(app, pipeline_id_);
      if (parsed && parsed->task == task && (!newest || version > *newest)) newest = version;
    }
  }
  return newest;
}

core::Status TaskGuard::may_start_fresh(const std::string& partition_id) {
  const int32_t task = task_of_partition(partition_id).value_or(0);
  for (const auto& name : tables_) {
    PS_ASSIGN_OR_RETURN(auto txns, txns_of(name));
    for (const auto& [app, version] : txns) {
      auto parsed = parse_app_id(app, pipeline_id_);
      if (!parsed || parsed->task != task) continue;
      return core::Status::internal(
          "task " + std::to_string(task) + " (partition " + partition_id +
          ") was assigned to this process, which holds no position for it, but table " + name +
          " already holds its commits (txn " + app + " = epoch " + std::to_string(version) +
          "): another member wrote it, and tasks cannot move between processes yet (no task "
          "hand-off); refusing it rather than reading it again from its start: restart the "
          "members together, each with its own data directory");
    }
  }
  return core::Status::ok();
}

bool shares_tasks(const PipelineConfig& cfg) {
  if (cfg.tasks != TaskMode::kPartitions || cfg.source_kind != "kafka") return false;
  if (!cfg.source_settings) return true;
  auto partitions = cfg.source_settings->get_string("partitions", "group");
  return partitions && *partitions == "group";
}

namespace {
std::string canonical_data_dir(const PipelineConfig& cfg) {
  std::error_code ec;
  return std::filesystem::weakly_canonical(std::filesystem::absolute(cfg.runtime.data_dir, ec), ec)
      .string();
}
}  // namespace

std::string member_instance(const PipelineConfig& cfg) {
  std::string instance;
  if (const char* env = std::getenv("PINSTREAM_INSTANCE_ID"); env && *env) instance = env;
  std::string group = "pinstream";
  if (cfg.source_settings) {
    if (auto g = cfg.source_settings->get_string("group_id", group)) group = *g;
    if (auto i = cfg.source_settings->get_string("group_instance_id", instance)) instance = *i;
  }
  if (instance.empty())
    instance = connectors::kafka::member_instance_id(group, connectors::kafka::host_name(),
                                                     canonical_data_dir(cfg));
  return instance;
}

std::string member_checkpoints_dir(const PipelineConfig& cfg) {
  if (!shares_tasks(cfg) || cfg.runtime.checkpoints.empty()) return cfg.runtime.checkpoints_dir();
  return cfg.runtime.checkpoints + "/members/" + member_instance(cfg);
}

connectors::Membership source_membership(
    const PipelineConfig& cfg, std::shared_ptr<connectors::objstore::ObjectStore> tables_root,
    std::vector<std::string> tables) {
  connectors::Membership m;
  m.tasks_by_partition = cfg.tasks == TaskMode::kPartitions;
  m.member_hint = canonical_data_dir(cfg);
  if (m.tasks_by_partition) {
    auto guard = std::make_shared<TaskGuard>(std::move(tables_root), cfg.tables.root,
                                             std::move(tables), cfg.id);
    m.may_start_fresh = [guard](const std::string& id) { return guard->may_start_fresh(id); };
  }
  return m;
}

}  // namespace pinstream::runtime
