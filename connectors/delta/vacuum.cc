// VACUUM: one listing of the table's files against the files the latest version, its
// tombstones within the retention and the kept versions name (vacuum.h).
#include "connectors/delta/vacuum.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "connectors/delta/log_cleanup.h"
#include "connectors/delta/log_store.h"

namespace pinstream::connectors::delta {
using core::Status;
using nlohmann::json;

namespace {
constexpr size_t kDeleteBatch = 1000;

// Delta leaves alone every path with a component starting with '_' or '.' (_delta_log,
// hidden files); partition directories ("col=...") never start so.
bool hidden(const std::string& key) {
  size_t at = 0;
  while (at < key.size()) {
    if (key[at] == '_' || key[at] == '.') return true;
    size_t slash = key.find('/', at);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return false;
}

struct Plan {
  std::vector<std::string> keys;
  int64_t bytes = 0, orphans = 0, kept = 0, temporaries = 0;
};

// The keys that some version within the retention (or a kept version) still needs.
core::Result<std::set<std::string>> needed(DeltaTable& table, const Snapshot& snap,
                                           int64_t cutoff_ms, const VacuumOptions& opts) {
  std::set<std::string> out;
  for (const auto& [path, add] : snap.active) out.insert(data_key(path));
  for (const auto& [path, removed_ms] : snap.removed)
    if (removed_ms > cutoff_ms) out.insert(data_key(path));
  for (int64_t v : opts.keep_versions) {
    if (v >= snap.version) continue;  // its files are active or removed after it: above
    auto old = table.snapshot_at(v);
    if (!old)
      return Status::invalid("table " + table.dir() + ": version " + std::to_string(v) +
                             " that a kept checkpoint records cannot be read (" +
                             old.error().message() + "); prune that checkpoint first");
    for (const auto& [path, add] : old->active) out.insert(data_key(path));
  }
  return out;
}

core::Result<Plan> plan(DeltaTable& table, const Snapshot& snap, int64_t now, int64_t retention_ms,
                        const VacuumOptions& opts) {
  const int64_t cutoff = now - retention_ms;
  const int64_t orphan_cutoff = now - std::max(retention_ms, kMinOrphanAgeMs);
  PS_ASSIGN_OR_RETURN(std::set<std::string> keep, needed(table, snap, cutoff, opts));
  std::set<std::string> tombstoned;
  for (const auto& [path, removed_ms] : snap.removed) tombstoned.insert(data_key(path));
  PS_ASSIGN_OR_RETURN(auto objects, table.store().list(""));
  std::set<std::string> live;
  for (const auto& [path, add] : snap.active) live.insert(data_key(path));
  Plan p;
  for (const auto& o : objects) {
    if (hidden(o.key) || live.count(o.key)) continue;
    if (keep.count(o.key)) {
      ++p.kept;
      continue;
    }
    const bool orphan = !tombstoned.count(o.key);
    // An unknown modification time (-1) is taken as new: never delete what we cannot date.
    const bool old = o.modified_ms >= 0 && o.modified_ms < (orphan ? orphan_cutoff : cutoff);
    if (!old) {
      ++p.kept;
      continue;
    }
    p.keys.push_back(o.key);
    p.bytes += static_cast<int64_t>(o.size);
    if (orphan) ++p.orphans;
  }
  // Temporary files of writes a killed process never finished (data files, commits): no
  // version or reader ever names them, so the retention does not apply; they go once no
  // writer can still be working on them (an hour).
  PS_ASSIGN_OR_RETURN(auto temporaries, table.store().list_temporaries(""));
  for (const auto& o : temporaries) {
    if (o.modified_ms < 0 || o.modified_ms >= now - kMinOrphanAgeMs) continue;
    p.keys.push_back(o.key);
    p.bytes += static_cast<int64_t>(o.size);
    ++p.orphans;
    ++p.temporaries;
  }
  return p;
}

core::Result<int64_t> commit_info_only(DeltaTable& table, const std::string& operation,
                                       const json& params, const json& metrics) {
  json ci = json::parse(commit_info_line(operation, params.dump()));
  ci["commitInfo"]["operationMetrics"] = metrics;
  ci["commitInfo"]["isBlindAppend"] = true;
  PS_ASSIGN_OR_RETURN(auto v,
                      table.commit_checked(ci.dump() + "\n", [](const Snapshot&) { return true; }));
  if (!v) return Status::internal("VACUUM commit refused by its own check");
  return *v;
}
}  // namespace

int64_t deleted_file_retention_ms(const Snapshot& snap) {
  return table_interval_ms(snap, "delta.deletedFileRetentionDuration",
                           kDefaultDeletedFileRetentionMs);
}

core::Result<VacuumReport> vacuum_table(DeltaTable& table, const VacuumOptions& opts) {
  PS_ASSIGN_OR_RETURN(const Snapshot* latest, table.latest_snapshot());
  const Snapshot snap = *latest;  // the handle's snapshot changes with our own commits
  VacuumReport r;
  r.retention_ms = opts.retention_ms >= 0 ? opts.retention_ms : deleted_file_retention_ms(snap);
  const int64_t now = opts.now_ms > 0 ? opts.now_ms : now_ms();
  PS_ASSIGN_OR_RETURN(Plan p, plan(table, snap, now, r.retention_ms, opts));
  r.files = static_cast<int64_t>(p.keys.size());
  r.bytes = p.bytes;
  r.orphans = p.orphans;
  r.temporaries = p.temporaries;
  r.kept = p.kept;
  for (size_t i = 0; i < p.keys.size() && i < opts.report_paths; ++i)
    r.first_paths.push_back(p.keys[i]);
  if (opts.dry_run || p.keys.empty()) return r;

  const json params = {{"retentionCheckEnabled", true},
                       {"specifiedRetentionMillis", r.retention_ms},
                       {"defaultRetentionMillis", deleted_file_retention_ms(snap)}};
  PS_ASSIGN_OR_RETURN(r.start_version,
                      commit_info_only(table, "VACUUM START", params,
                                       {{"numFilesToDelete", std::to_string(r.files)},
                                        {"sizeOfDataToDelete", std::to_string(r.bytes)}}));
  Status deleted = Status::ok();
  for (size_t at = 0; at < p.keys.size() && deleted.is_ok(); at += kDeleteBatch) {
    const auto end =
        p.keys.begin() + static_cast<std::ptrdiff_t>(std::min(p.keys.size(), at + kDeleteBatch));
    deleted = table.store().remove_many(
        std::vector<std::string>(p.keys.begin() + static_cast<std::ptrdiff_t>(at), end));
  }
  const json status = {{"status", deleted.is_ok() ? "COMPLETED" : "FAILED"}};
  auto ended = commit_info_only(table, "VACUUM END", status,
                                {{"numDeletedFiles", std::to_string(deleted.is_ok() ? r.files : 0)},
                                 {"numVacuumedDirectories", "0"}});
  PS_RETURN_IF_ERROR(deleted);
  PS_ASSIGN_OR_RETURN(r.end_version, std::move(ended));
  return r;
}

std::optional<int64_t> parse_duration_ms(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12 || digits + 1 != text.size()) return std::nullopt;
  const int64_t n = std::stoll(text.substr(0, digits));
  switch (text.back()) {
    case 's':
      return n * 1000;
    case 'm':
      return n * 60 * 1000;
    case 'h':
      return n * 3600 * 1000;
    case 'd':
      return n * 24 * 3600 * 1000;
    default:
      return std::nullopt;
  }
}

std::string format_duration(int64_t ms) {
  struct Unit {
    int64_t ms;
    const char* name;
  };
  for (Unit u : {Unit{24ll * 3600 * 1000, "days"}, Unit{3600 * 1000, "hours"},
                 Unit{60 * 1000, "minutes"}, Unit{1000, "seconds"}})
    if (ms > 0 && ms % u.ms == 0) return std::to_string(ms / u.ms) + " " + u.name;
  return ms == 0 ? "0 seconds" : std::to_string(ms) + " ms";
}

}  // namespace pinstream::connectors::delta
