// A stopped member's stats completed for the whole pipeline (peers.h complete_stats): each
// task's counters from the live member serving it, else this member's state, else the task's
// newest checkpoint; every other task named with the reason.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/http/http_client.h"
#include "stream/query/peers.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

// The counters of one task as {"stats":true} shows them.
json counters_json(const std::map<std::string, StreamCounters>& by_stream) {
  json out = json::object();
  for (const auto& [name, c] : by_stream)
    out[name] = {{"read", c.read}, {"clean", c.clean},
                 {"dead", c.dead}, {"duplicates", c.duplicates},
                 {"late", c.late}, {"late_future", c.future}};
  return out;
}

// A live peer's stats answer (GET /api/stats on its peer listener), or why there is none.
struct PeerStats {
  json stats;
  std::string failed;
};

PeerStats fetch_stats(const PeerInfo& peer, const PeerAccess& access) {
  connectors::http::Client client;
  connectors::http::Request req;
  req.url = "http://" + peer.address + "/api/stats";
  if (!access.token.empty()) req.headers.push_back("Authorization: Bearer " + access.token);
  req.timeout_ms = req.connect_timeout_ms = access.timeout_ms;
  connectors::http::Response resp;
  if (core::Status st = client.send(req, resp); !st.is_ok()) return {json(), st.message()};
  if (resp.status != 200)
    return {json(), "HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 200)};
  json j = json::parse(resp.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {json(), "its stats answer is not JSON"};
  return {std::move(j), ""};
}

// Why no counters were found for `task`.
std::string missing_reason(int32_t task, const PeerView& pv,
                           const std::map<std::string, std::string>& failed,
                           const std::string& checkpoint_error) {
  if (!checkpoint_error.empty()) return "its task checkpoint is unreadable: " + checkpoint_error;
  for (const auto& p : pv.peers) {
    if (std::find(p.tasks.begin(), p.tasks.end(), task) == p.tasks.end()) continue;
    if (p.stale) return "member " + p.instance + " holds it but its record is stale";
    if (auto f = failed.find(p.instance); f != failed.end())
      return "member " + p.instance + " at " + p.address + " unreachable: " + f->second;
  }
  return "no live member serves it and no task checkpoint holds it";
}

// "streams": the sums of every task's counters (join_expired, per stream only, and lag stay
// this member's).
void sum_streams(json& j, const json& tasks) {
  json& streams = j["streams"];
  if (!streams.is_object()) streams = json::object();
  for (auto& [name, s] : streams.items())
    for (const char* k : {"read", "clean", "dead", "duplicates", "late", "late_future"}) s[k] = 0;
  for (const auto& [task, by_stream] : tasks.items())
    for (const auto& [name, c] : by_stream.items())
      for (const auto& [k, v] : c.items())
        if (v.is_number_integer())
          streams[name][k] = streams[name].value(k, int64_t{0}) + v.get<int64_t>();
}

}  // namespace

std::string complete_stats(const std::string& stats_line, const PeerView& pv,
                           const PeerAccess& access, const CheckpointCounters& from_checkpoint) {
  json j = json::parse(stats_line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return stats_line;
  const json own = j.contains("tasks") ? j["tasks"] : json::object();
  const int64_t epoch = j.value("epoch", int64_t{0});
  json tasks = json::object(), sources = json::object(), missing = json::array();
  // Live peers first: their counters are newer than this stopped member's.
  const std::vector<const PeerInfo*> peers = live_peers(pv);
  std::vector<PeerStats> fetched(peers.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < peers.size(); ++i)
    threads.emplace_back([&, i] { fetched[i] = fetch_stats(*peers[i], access); });
  for (auto& t : threads) t.join();
  std::map<std::string, std::string> failed;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!fetched[i].failed.empty()) {
      failed[peers[i]->instance] = fetched[i].failed;
      continue;
    }
    const json& theirs = fetched[i].stats.contains("tasks") ? fetched[i].stats["tasks"] : json();
    for (int32_t t : peers[i]->tasks) {
      const std::string key = std::to_string(t);
      if (tasks.contains(key) || !theirs.is_object() || !theirs.contains(key)) continue;
      tasks[key] = theirs[key];
      sources[key] = "member " + peers[i]->instance + " (live, epoch " +
                     std::to_string(fetched[i].stats.value("epoch", int64_t{0})) + ")";
    }
  }
  std::set<int32_t> known;
  for (const auto& [key, counters] : own.items()) {
    known.insert(std::stoi(key));
    if (tasks.contains(key)) continue;
    tasks[key] = counters;
    sources[key] = "this member's committed state (epoch " + std::to_string(epoch) + ")";
  }
  const int32_t total = pipeline_task_total(pv, known);
  for (int32_t t = 0; t < total; ++t) {
    const std::string key = std::to_string(t);
    if (tasks.contains(key)) continue;
    core::Result<std::optional<TaskCountersAt>> ck =
        from_checkpoint ? from_checkpoint(t) : std::optional<TaskCountersAt>();
    if (ck && *ck) {
      tasks[key] = counters_json((*ck)->counters);
      sources[key] = "task checkpoint of epoch " + std::to_string((*ck)->epoch);
      continue;
    }
    missing.push_back(
        {{"task", t}, {"reason", missing_reason(t, pv, failed, ck ? "" : ck.error().message())}});
  }
  sum_streams(j, tasks);
  j["streams_cover"] = {{"tasks", tasks.size()}, {"total", total}};
  j["tasks"] = tasks;
  j["task_sources"] = sources;
  j["tasks_missing"] = missing;
  return j.dump();
}

}  // namespace pinstream::runtime
