#include "stream/query/partials.h"

#include <nlohmann/json.hpp>

#include "state/task_aggregates.h"
#include "stream/core/base64.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

std::string b64(std::string_view bytes) {
  std::string out;
  core::base64_encode(bytes, out);
  return out;
}

core::Status malformed(const std::string& what) {
  return core::Status::corruption("malformed partials from a peer: " + what);
}

json group_json(const state::AggregateSpec& spec, const std::string& suffix,
                const state::GroupPartial& p) {
  json g = json::array({b64(suffix), b64(state::encode_group(p.g))});
  if (spec.measure == state::Measure::kMedian) {
    json h = json::array();
    for (const auto& [value, n] : p.histogram) h.push_back(json::array({b64(value), n}));
    g.push_back(std::move(h));
  }
  return g;
}

// One [key, state(, histogram)] entry into `out`; false when malformed.
bool parse_group(const json& g, std::map<std::string, state::GroupPartial>& out) {
  if (!g.is_array() || g.size() < 2 || !g[0].is_string() || !g[1].is_string()) return false;
  std::string suffix, state_bytes;
  if (!core::base64_decode(g[0].get_ref<const std::string&>(), suffix) ||
      !core::base64_decode(g[1].get_ref<const std::string&>(), state_bytes))
    return false;
  state::GroupPartial& p = out[suffix];
  if (!state::decode_group(state_bytes, p.g)) return false;
  if (g.size() < 3) return true;
  if (!g[2].is_array()) return false;
  for (const auto& e : g[2]) {
    std::string value;
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number_integer() ||
        !core::base64_decode(e[0].get_ref<const std::string&>(), value))
      return false;
    p.histogram[value] += e[1].get<int64_t>();
  }
  return true;
}

}  // namespace

std::string aggregate_shape(const state::AggregateSpec& spec) {
  return spec.name + "/" + std::to_string(static_cast<int>(spec.measure)) + "/" +
         spec.output.to_string();
}

core::Result<TaskPartials> read_partials(const state::Views& views, const std::string& view,
                                         const std::map<std::string, std::string>& params,
                                         const CommittedView& v,
                                         const std::vector<int32_t>& tasks) {
  PS_ASSIGN_OR_RETURN(const state::AggregateSpec* spec, views.source_of(view, params));
  if (!v.reader) return core::Status::unavailable("no committed state yet");
  TaskPartials out;
  out.epoch = v.epoch;
  out.shape = aggregate_shape(*spec);
  for (int32_t t : tasks)
    PS_RETURN_IF_ERROR(
        state::TaskAggregates::read_task_partials(*spec, *v.reader, t, out.tasks[t]));
  return out;
}

std::string partials_json(const std::string& view, const state::AggregateSpec& spec,
                          const TaskPartials& p) {
  json tasks = json::object();
  for (const auto& [t, groups] : p.tasks) {
    json list = json::array();
    for (const auto& [suffix, g] : groups) list.push_back(group_json(spec, suffix, g));
    tasks[std::to_string(t)] = std::move(list);
  }
  return json({{"ok", true},
               {"epoch", p.epoch},
               {"view", view},
               {"aggregate", spec.name},
               {"shape", p.shape},
               {"tasks", std::move(tasks)}})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<TaskPartials> parse_partials(std::string_view body, const state::AggregateSpec& spec) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return malformed("not a JSON object");
  if (j.value("ok", false) != true) {
    std::string message = j.contains("error") ? j["error"].dump() : "no \"ok\":true";
    return core::Status::unavailable("peer refused partials: " + message);
  }
  TaskPartials out;
  if (!j["epoch"].is_number_integer() || !j["shape"].is_string() || !j["tasks"].is_object())
    return malformed("epoch, shape or tasks missing");
  out.epoch = j["epoch"].get<int64_t>();
  out.shape = j["shape"].get<std::string>();
  if (out.shape != aggregate_shape(spec))
    return core::Status::invalid("a peer's aggregate is " + out.shape + " but this member's is " +
                                 aggregate_shape(spec) +
                                 ": run every member with the same configuration");
  for (const auto& [key, groups] : j["tasks"].items()) {
    int32_t t = 0;
    try {
      t = static_cast<int32_t>(std::stoi(key));
    } catch (const std::exception&) {
      return malformed("task '" + key + "'");
    }
    auto& mine = out.tasks[t];
    if (!groups.is_array()) return malformed("task " + key + " is not a list");
    for (const auto& g : groups)
      if (!parse_group(g, mine)) return malformed("a group of task " + key);
  }
  return out;
}

}  // namespace pinstream::runtime
