#include "connectors/delta/log_cleanup.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pinstream::connectors::delta {
using nlohmann::json;

int64_t parse_interval_ms(const std::string& text) {
  std::istringstream in(text);
  std::string word, unit;
  in >> word;
  if (word == "interval") in >> word;
  in >> unit;
  if (word.empty() || unit.empty()) return -1;
  for (char c : word)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  int64_t n = std::stoll(word);
  if (!unit.empty() && unit.back() == 's') unit.pop_back();
  const int64_t s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  if (unit == "millisecond") return n;
  if (unit == "second") return n * s;
  if (unit == "minute") return n * m;
  if (unit == "hour") return n * h;
  if (unit == "day") return n * d;
  if (unit == "week") return n * 7 * d;
  return -1;
}

int64_t table_interval_ms(const Snapshot& snap, const std::string& key, int64_t def) {
  json meta = json::parse(snap.metadata_json, nullptr, false);
  if (meta.is_discarded() || !meta.contains("configuration")) return def;
  const json& conf = meta["configuration"];
  if (!conf.is_object() || !conf.contains(key) || !conf[key].is_string()) return def;
  int64_t ms = parse_interval_ms(conf[key].get<std::string>());
  return ms < 0 ? def : ms;
}

namespace {
// The commitInfo timestamp of a commit's text; -1 when it has none.
int64_t commit_timestamp(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("commitInfo"))
      return j["commitInfo"].value("timestamp", int64_t{-1});
  }
  return -1;
}
}  // namespace

core::Result<LogCleanup> clean_log(ObjectStore& table, int64_t checkpoint, int64_t retention_ms,
                                   int64_t now_ms) {
  LogCleanup out;
  PS_ASSIGN_OR_RETURN(LogListing log, list_log(table));
  if (!log.checkpoints.count(checkpoint)) return out;  // only ever before a checkpoint we see
  const int64_t cutoff = now_ms - retention_ms;
  int64_t expired = -1;  // every version <= expired is deleted
  std::vector<std::string> keys;
  for (int64_t v : log.commits) {
    if (v >= checkpoint) break;
    auto text = table.get(commit_key(v));
    if (!text) {
      if (text.error().code() == core::StatusCode::kNotFound) continue;  // another cleaner
      return text.error();
    }
    int64_t ts = commit_timestamp(*text);
    if (ts < 0 || ts >= cutoff) {
      out.oldest_kept_ms = ts;
      break;
    }
    expired = v;
    keys.push_back(commit_key(v));
    ++out.commits;
  }
  for (int64_t c : log.checkpoints)
    if (c < checkpoint && c <= expired) keys.push_back(checkpoint_key(c)), ++out.checkpoints;
  // Checkpoints first would not matter: replay never starts before the newest one.
  if (!keys.empty()) PS_RETURN_IF_ERROR(table.remove_many(keys));
  return out;
}

}  // namespace pinstream::connectors::delta
