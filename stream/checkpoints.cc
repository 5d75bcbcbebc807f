#include "stream/checkpoints.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "stream/core/durable_file.h"
#include "stream/core/time.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using nlohmann::json;

std::string checkpoint_id(int64_t epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(epoch));
  return buf;
}

bool is_checkpoint_id(const std::string& name) {
  return name.size() >= 8 && name.find_first_not_of("0123456789") == std::string::npos;
}

std::string CheckpointManifest::to_json() const {
  json j = {{"id", id},
            {"epoch", epoch},
            {"time_micros", time_micros},
            {"time", core::format_timestamp(time_micros)},
            {"generation", generation},
            {"positions", positions},
            {"table_versions", table_versions}};
  if (!files.empty()) {
    json list = json::array();
    for (const auto& f : files)
      list.push_back({{"name", f.name}, {"key", f.key}, {"size", f.size}});
    j["files"] = std::move(list);
  }
  return j.dump(2);
}

core::Result<CheckpointManifest> CheckpointManifest::from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    CheckpointManifest m;
    m.id = j.at("id").get<std::string>();
    m.epoch = j.at("epoch").get<int64_t>();
    m.time_micros = j.at("time_micros").get<int64_t>();
    m.generation = j.at("generation").get<int64_t>();
    m.positions = j.at("positions").get<core::Positions>();
    m.table_versions = j.at("table_versions").get<std::map<std::string, int64_t>>();
    if (auto it = j.find("files"); it != j.end()) {
      for (const auto& f : *it)
        m.files.push_back({f.at("name").get<std::string>(), f.at("key").get<std::string>(),
                           f.at("size").get<uint64_t>()});
    }
    return m;
  } catch (const std::exception& e) {
    return core::Status::corruption(std::string("checkpoint manifest is unreadable: ") + e.what());
  }
}

std::string CheckpointManifest::to_line() const {
  std::ostringstream os;
  os << id << "  epoch=" << epoch << "  time=" << core::format_timestamp(time_micros)
     << "  positions={";
  bool first = true;
  for (const auto& [k, v] : positions) {
    os << (first ? "" : ", ") << k << ":" << v;
    first = false;
  }
  os << "}  versions={";
  first = true;
  for (const auto& [k, v] : table_versions) {
    os << (first ? "" : ", ") << k << ":" << v;
    first = false;
  }
  os << "}";
  return os.str();
}

std::vector<CheckpointManifest> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointManifest> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::ifstream in(e.path() / "manifest.json");
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = CheckpointManifest::from_json(ss.str());
    if (m) out.push_back(*m);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
  return out;
}

core::Result<CheckpointManifest> find_checkpoint(const std::string& dir, const std::string& id) {
  return pick_checkpoint(list_checkpoints(dir), id, dir);
}

core::Result<CheckpointManifest> pick_checkpoint(const std::vector<CheckpointManifest>& all,
                                                 const std::string& id, const std::string& where) {
  if (all.empty()) return core::Status::not_found("no checkpoints under " + where);
  if (id == "latest") return all.back();
  for (const auto& m : all) {
    if (m.id == id) return m;
    try {
      if (std::stoll(id) == m.epoch && id.find_first_not_of("0123456789") == std::string::npos)
        return m;
    } catch (const std::exception&) {
    }
  }
  std::string ids;
  for (const auto& m : all) ids += (ids.empty() ? "" : ", ") + m.id;
  return core::Status::not_found("no checkpoint '" + id + "' under " + where + " (have: " + ids +
                                 ")");
}

core::Status write_manifest(const std::string& dir, const CheckpointManifest& m) {
  return core::write_file_atomically(fs::path(dir) / m.id / "manifest.json", m.to_json());
}

void prune_checkpoints(const std::string& dir, int64_t keep) {
  auto all = list_checkpoints(dir);
  std::error_code ec;
  // Incomplete checkpoints (no manifest) left by a crash.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory() && is_checkpoint_id(e.path().filename().string()) &&
        !fs::exists(e.path() / "manifest.json"))
      fs::remove_all(e.path(), ec);
  }
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i)
    fs::remove_all(fs::path(dir) / all[i].id, ec);
}

}  // namespace pinstream::runtime
