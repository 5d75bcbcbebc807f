#include "stream/cli/run_summary.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stream/core/durable_file.h"
#include "stream/core/time.h"

namespace pinstream::cli {
using nlohmann::json;

namespace {

int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json counters(const runtime::StreamCounters* from, const runtime::StreamCounters& to) {
  runtime::StreamCounters zero;
  const runtime::StreamCounters& a = from ? *from : zero;
  return {{"read", to.read - a.read},
          {"clean", to.clean - a.clean},
          {"dead", to.dead - a.dead},
          {"duplicates", to.duplicates - a.duplicates},
          {"late", to.late - a.late}};
}

json or_null(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? json(nullptr) : json(it->second);
}

}  // namespace

RunSummary::RunSummary(std::string command, std::string mode)
    : command_(std::move(command)), mode_(std::move(mode)), started_micros_(now_micros()) {}

void RunSummary::at_start(const runtime::EpochMeta& meta, std::map<std::string, int64_t> versions,
                          const core::Positions& end_positions) {
  start_ = meta;
  versions_start_ = std::move(versions);
  ends_ = end_positions;
}

void RunSummary::at_end(const runtime::EpochMeta& meta, std::map<std::string, int64_t> versions) {
  end_ = meta;
  versions_end_ = std::move(versions);
}

void RunSummary::checkpoint(std::string id, int64_t epoch) {
  checkpoint_id_ = std::move(id);
  checkpoint_epoch_ = epoch;
}

std::string RunSummary::to_json(int exit_code, const std::string& error) const {
  const int64_t ended = now_micros();
  json j = {{"command", command_},
            {"mode", mode_},
            {"started_at", core::format_timestamp(started_micros_)},
            {"ended_at", core::format_timestamp(ended)},
            {"seconds", static_cast<double>(ended - started_micros_) / 1e6},
            {"exit_status", exit_code},
            {"error", error.empty() ? json(nullptr) : json(error)}};
  const runtime::EpochMeta* start = start_ ? &*start_ : nullptr;
  const runtime::EpochMeta* end = end_ ? &*end_ : start;
  const int64_t first = start ? start->epoch : 0, last = end ? end->epoch : 0;
  j["epochs"] = {{"before", first}, {"last", last}, {"committed", last - first}};
  j["streams"] = json::object();
  j["partitions"] = json::object();
  j["tables"] = json::object();
  if (end) {
    for (const auto& [name, c] : end->counters) {
      auto from = start ? start->counters.find(name) : end->counters.end();
      j["streams"][name] =
          counters(start && from != start->counters.end() ? &from->second : nullptr, c);
    }
    core::Positions ids = end->positions;
    for (const auto& [id, e] : ends_) ids.try_emplace(id, "");
    for (const auto& [id, unused] : ids) {
      json p = {{"from", start ? or_null(start->positions, id) : json(nullptr)},
                {"to", or_null(end->positions, id)}};
      if (ends_.count(id)) p["end"] = ends_.at(id);
      j["partitions"][id] = p;
    }
  }
  const auto& versions = versions_end_.empty() ? versions_start_ : versions_end_;
  for (const auto& [name, v] : versions) {
    auto s = versions_start_.find(name);
    const int64_t before = s == versions_start_.end() ? -1 : s->second;
    json t = {{"version_before", before}, {"version_after", v}};
    // The versions this run committed, when it committed any.
    t["committed"] = v > before ? json::array({before + 1, v}) : json(nullptr);
    j["tables"][name] = t;
  }
  j["checkpoint"] = checkpoint_id_.empty()
                        ? json(nullptr)
                        : json{{"id", checkpoint_id_}, {"epoch", checkpoint_epoch_}};
  return j.dump(2) + "\n";
}

core::Status RunSummary::write(const std::string& path, int exit_code,
                               const std::string& error) const {
  const std::string text = to_json(exit_code, error);
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return core::Status::ok();
  }
  core::Status st = core::write_file_atomically(path, text);
  if (!st.is_ok())
    return core::Status::io("cannot write the run summary: " + st.message() +
                            "; check the directory");
  return core::Status::ok();
}

}  // namespace pinstream::cli
