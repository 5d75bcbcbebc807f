#include "stream/epoch_meta.h"

#include <nlohmann/json.hpp>

namespace pinstream::runtime {
using nlohmann::json;
namespace {

json counters_json(const std::map<std::string, StreamCounters>& counters) {
  json c = json::object();
  for (const auto& [name, k] : counters)
    c[name] = {
        {"read", k.read}, {"clean", k.clean},   {"dead", k.dead},      {"duplicates", k.duplicates},
        {"late", k.late}, {"future", k.future}, {"expired", k.expired}};
  return c;
}

std::map<std::string, StreamCounters> counters_of(const json& j) {
  std::map<std::string, StreamCounters> out;
  for (const auto& [name, c] : j.items()) {
    StreamCounters k;
    k.read = c.at("read").get<int64_t>();
    k.clean = c.at("clean").get<int64_t>();
    k.dead = c.at("dead").get<int64_t>();
    k.duplicates = c.at("duplicates").get<int64_t>();
    k.late = c.at("late").get<int64_t>();
    k.future = c.value("future", int64_t{0});
    k.expired = c.value("expired", int64_t{0});
    out[name] = k;
  }
  return out;
}

}  // namespace

std::string EpochMeta::to_json() const {
  json j;
  j["epoch"] = epoch;
  j["generation"] = generation;
  j["pipeline_id"] = pipeline_id;
  j["positions"] = positions;
  j["counters"] = counters_json(counters);
  j["event_time_max"] = event_time_max;
  j["archive_next"] = archive_next;
  j["pending"] = pending;
  if (!group.empty()) j["group"] = group;
  j["table_versions"] = table_versions;
  j["table_epochs"] = table_epochs;
  j["committed_at_micros"] = committed_at_micros;
  if (tasks != TaskMode::kSingle) j["tasks"] = task_mode_name(tasks);
  if (!task_counters.empty()) {
    json t = json::object();
    for (const auto& [task, c] : task_counters) t[std::to_string(task)] = counters_json(c);
    j["task_counters"] = t;
  }
  if (!task_epochs.empty()) {
    json t = json::object();
    for (const auto& [task, e] : task_epochs) t[std::to_string(task)] = e;
    j["task_epochs"] = t;
  }
  return j.dump();
}

core::Result<EpochMeta> EpochMeta::from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    EpochMeta m;
    m.epoch = j.at("epoch").get<int64_t>();
    m.generation = j.at("generation").get<int64_t>();
    m.pipeline_id = j.at("pipeline_id").get<std::string>();
    m.positions = j.at("positions").get<core::Positions>();
    m.counters = counters_of(j.at("counters"));
    if (j.contains("task_counters"))
      for (const auto& [task, c] : j["task_counters"].items())
        m.task_counters[static_cast<int32_t>(std::stol(task))] = counters_of(c);
    if (j.contains("task_epochs"))
      for (const auto& [task, e] : j["task_epochs"].items())
        m.task_epochs[static_cast<int32_t>(std::stol(task))] = e.get<int64_t>();
    m.event_time_max = j.at("event_time_max").get<std::map<std::string, int64_t>>();
    if (j.contains("archive_next"))
      m.archive_next = j["archive_next"].get<std::map<std::string, int64_t>>();
    m.pending = j.at("pending").get<std::map<std::string, std::vector<std::string>>>();
    if (j.contains("group"))
      m.group = j["group"].get<std::map<std::string, std::vector<std::string>>>();
    if (j.contains("table_versions"))
      m.table_versions = j["table_versions"].get<std::map<std::string, int64_t>>();
    if (j.contains("table_epochs"))
      m.table_epochs = j["table_epochs"].get<std::map<std::string, int64_t>>();
    m.committed_at_micros = j.value("committed_at_micros", int64_t{0});
    const std::string tasks = j.value("tasks", std::string("single"));
    if (tasks != "single" && tasks != "partitions")
      return core::Status::corruption("epoch metadata names an unknown tasks mode " + tasks);
    m.tasks = tasks == "partitions" ? TaskMode::kPartitions : TaskMode::kSingle;
    return m;
  } catch (const std::exception& e) {
    return core::Status::corruption(std::string("epoch metadata is unreadable: ") + e.what());
  }
}

}  // namespace pinstream::runtime
