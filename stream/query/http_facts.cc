#include "stream/query/http_facts.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "connectors/delta/inspect.h"
#include "connectors/parquet/reader.h"
#include "stream/checkpoints.h"
#include "stream/core/time.h"

namespace pinstream::runtime {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kRawPrefixBytes = 240;     // of each dead letter sample
constexpr int64_t kMaxScannedRows = 20000;  // dead letters read for the counts by reason
constexpr size_t kMaxScannedFiles = 64;

bool is_remote(const std::string& root) { return root.find("://") != std::string::npos; }

json table_entry(const std::string& name, const std::string& dir) {
  connectors::delta::LogReport r = connectors::delta::inspect_log(dir);
  int64_t bytes = 0, last_ms = 0;
  for (const auto& [path, add] : r.snapshot.active) {
    bytes += add.size;
    last_ms = std::max(last_ms, add.modification_time);
  }
  // The newest commit file's time: a commit may add no files.
  std::error_code ec;
  char log_name[32];
  std::snprintf(log_name, sizeof log_name, "%020lld.json",
                static_cast<long long>(r.snapshot.version));
  auto t = fs::last_write_time(fs::path(dir) / "_delta_log" / log_name, ec);
  if (!ec) {
    auto sys =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::file_clock::to_sys(t));
    last_ms = std::max(last_ms, static_cast<int64_t>(sys.time_since_epoch().count()));
  }
  return {{"name", name},
          {"version", r.snapshot.version},
          {"files", r.snapshot.active.size()},
          {"bytes", bytes},
          {"last_commit", last_ms ? core::format_timestamp(last_ms * 1000) : ""},
          {"problems", r.problems.size()}};
}

// A dead letter's reason without the per-record tail (the whole record's size and hash).
std::string reason_class(const std::string& reason) {
  size_t at = reason.find(" (raw: first ");
  std::string r = at == std::string::npos ? reason : reason.substr(0, at);
  if (r.size() > 160) r = r.substr(0, 160) + "…";
  return r;
}

std::string utf8_prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "…";
}

}  // namespace

std::string tables_json(const std::string& tables_root, const CommittedView& v) {
  json tables = json::array();
  if (is_remote(tables_root)) {
    for (const auto& [name, version] : v.meta.table_versions)
      tables.push_back({{"name", name},
                        {"version", version},
                        {"files", nullptr},
                        {"bytes", nullptr},
                        {"last_commit", ""}});
    return json({{"ok", true}, {"tables", tables}}).dump();
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tables_root, ec))
    if (fs::is_directory(e.path() / "_delta_log", ec))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) tables.push_back(table_entry(name, tables_root + "/" + name));
  return json({{"ok", true}, {"tables", tables}})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string dead_letters_json(const std::string& table_dir, size_t limit, int64_t total) {
  json samples = json::array();
  std::map<std::string, int64_t> counts;
  int64_t scanned = 0;
  if (!is_remote(table_dir)) {
    connectors::delta::LogReport r = connectors::delta::inspect_log(table_dir);
    std::vector<const connectors::delta::AddFile*> files;
    for (const auto& [path, add] : r.snapshot.active) files.push_back(&add);
    std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) {
      return a->modification_time != b->modification_time
                 ? a->modification_time > b->modification_time
                 : a->path > b->path;
    });
    for (size_t f = 0; f < files.size() && f < kMaxScannedFiles && scanned < kMaxScannedRows; ++f) {
      auto contents = connectors::parquet::read_file(table_dir + "/" + files[f]->path);
      if (!contents) continue;
      std::map<std::string, size_t> col;
      for (size_t i = 0; i < contents->roots.size() && i < contents->leaves.size(); ++i)
        col[contents->roots[i].name] = i;
      if (!col.count("reason") || !col.count("raw") || !col.count("stream") ||
          !col.count("position"))
        continue;
      auto cell = [&](const char* name, size_t row) -> std::string {
        const auto& values = contents->leaves[col[name]].values;
        return row < values.size() ? values[row].to_string() : "";
      };
      for (int64_t row = contents->rows - 1; row >= 0; --row, ++scanned) {
        size_t i = static_cast<size_t>(row);
        counts[reason_class(cell("reason", i))]++;
        if (samples.size() < limit)
          samples.push_back({{"stream", cell("stream", i)},
                             {"position", cell("position", i)},
                             {"reason", cell("reason", i)},
                             {"raw", utf8_prefix(cell("raw", i), kRawPrefixBytes)},
                             {"time", col.count("time") ? cell("time", i) : ""}});
      }
    }
  }
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  json by_reason = json::array();
  for (const auto& [reason, n] : sorted) by_reason.push_back({{"reason", reason}, {"count", n}});
  std::string note = scanned < total
                         ? "counts by reason over the newest " + std::to_string(scanned) + " of " +
                               std::to_string(total) + " dead letters"
                         : "counts by reason over all " + std::to_string(total) + " dead letters";
  json j = {{"ok", true},   {"total", total},         {"scanned", scanned},
            {"note", note}, {"by_reason", by_reason}, {"samples", samples}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string dead_letter_reason_metrics(const std::string& dead_letters) {
  json j = json::parse(dead_letters, nullptr, false);
  std::string out =
      "# HELP pinstream_dead_letter_reasons_total Dead letters by reason (over the newest " +
      std::to_string(kMaxScannedRows) +
      " at most)\n# TYPE pinstream_dead_letter_reasons_total counter\n";
  if (!j.is_object() || !j.contains("by_reason")) return out;
  for (const auto& r : j["by_reason"]) {
    std::string label;
    for (char c : r.value("reason", std::string())) {
      if (c == '\\' || c == '"') label += '\\';
      if (c == '\n')
        label += "\\n";
      else
        label += c;
    }
    out += "pinstream_dead_letter_reasons_total{reason=\"" + label + "\"} " +
           std::to_string(r.value("count", int64_t{0})) + "\n";
  }
  return out;
}

std::string checkpoints_json(const std::string& dir) {
  json list = json::array();
  if (!is_remote(dir))
    for (const auto& m : list_checkpoints(dir))
      list.push_back({{"id", m.id},
                      {"epoch", m.epoch},
                      {"time", m.time_micros ? core::format_timestamp(m.time_micros) : ""}});
  return json({{"ok", true}, {"checkpoints", list}}).dump();
}

}  // namespace pinstream::runtime
