#include "stream/epoch_meta.h"

#include <nlohmann/json.hpp>

namespace pinstream::runtime {
using nlohmann::json;

std::string EpochMeta::to_json() const {
  json j;
  j["epoch"] = epoch;
  j["generation"] = generation;
  j["pipeline_id"] = pipeline_id;
  j["positions"] = positions;
  json c = json::object();
  for (const auto& [name, k] : counters)
    c[name] = {
        {"read", k.read}, {"clean", k.clean},   {"dead", k.dead},      {"duplicates", k.duplicates},
        {"late", k.late}, {"future", k.future}, {"expired", k.expired}};
  j["counters"] = c;
  j["event_time_max"] = event_time_max;
  j["archive_next"] = archive_next;
  j["pending"] = pending;
  if (!group.empty()) j["group"] = group;
  j["table_versions"] = table_versions;
  j["table_epochs"] = table_epochs;
  j["committed_at_micros"] = committed_at_micros;
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
    for (const auto& [name, c] : j.at("counters").items()) {
      StreamCounters k;
      k.read = c.at("read").get<int64_t>();
      k.clean = c.at("clean").get<int64_t>();
      k.dead = c.at("dead").get<int64_t>();
      k.duplicates = c.at("duplicates").get<int64_t>();
      k.late = c.at("late").get<int64_t>();
      k.future = c.value("future", int64_t{0});
      k.expired = c.value("expired", int64_t{0});
      m.counters[name] = k;
    }
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
    return m;
  } catch (const std::exception& e) {
    return core::Status::corruption(std::string("epoch metadata is unreadable: ") + e.what());
  }
}

}  // namespace pinstream::runtime
