#include "stream/redrive.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "connectors/delta/inspect.h"
#include "connectors/parquet/reader.h"

namespace pinstream::runtime {
using core::Status;

namespace {

// The string value of column `name` in `row` of the file's flat leaves ("" when null).
std::string cell(const connectors::parquet::ParquetContents& c, const std::string& name,
                 size_t row) {
  for (const auto& leaf : c.leaves) {
    if (leaf.spec.path.empty() || leaf.spec.path.back() != name || row >= leaf.values.size())
      continue;
    const core::Value& v = leaf.values[row];
    return v.is_null() ? std::string() : v.s;
  }
  return {};
}

}  // namespace

core::Result<std::vector<DeadLetterRow>> read_dead_letters(const PipelineConfig& cfg) {
  const std::string dir = cfg.tables.root + "/" + cfg.tables.dead_letters;
  std::vector<DeadLetterRow> rows;
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/_delta_log", ec)) return rows;      // none written yet
  connectors::delta::LogReport log = connectors::delta::inspect_log(dir);  // read-only
  if (!log.problems.empty())
    return Status::corruption("the dead-letter table cannot be read: " + log.problems.front() +
                              "; run pinstream verify");
  const connectors::delta::Snapshot& snap = log.snapshot;
  for (const auto& [path, add] : snap.active) {
    PS_ASSIGN_OR_RETURN(auto contents, connectors::parquet::read_file(dir + "/" + path));
    for (size_t r = 0; r < static_cast<size_t>(contents.rows); ++r)
      rows.push_back({cell(contents, "stream", r), cell(contents, "partition", r),
                      cell(contents, "position", r), cell(contents, "raw", r),
                      cell(contents, "encoding", r), cell(contents, "reason", r)});
  }
  return rows;
}

std::set<std::string> redriven_marks(const core::Positions& committed,
                                     const std::string& partition) {
  std::set<std::string> out;
  auto it = committed.find(redrive_partition(partition));
  if (it == committed.end()) return out;
  nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  if (j.is_array())
    for (const auto& p : j)
      if (p.is_string()) out.insert(p.get<std::string>());
  return out;
}

Status RedriveSource::open(const core::Positions& restore) {
  std::vector<RedriveRecord> keep;
  for (auto& r : records_) {
    auto marks = marks_.find(r.partition);
    if (marks == marks_.end())
      marks = marks_.emplace(r.partition, redriven_marks(restore, r.partition)).first;
    if (marks->second.count(r.position)) continue;  // taken by an earlier redrive
    if (!index_.count(r.partition)) {
      index_[r.partition] = static_cast<uint32_t>(refs_.size());
      refs_.push_back({redrive_partition(r.partition), r.stream});
    }
    ++(*moved_)[r.stream_name];
    keep.push_back(std::move(r));
  }
  records_ = std::move(keep);
  return Status::ok();
}

core::Result<size_t> RedriveSource::poll(core::Batch& out, std::chrono::milliseconds,
                                         size_t max_records) {
  size_t n = 0;
  for (; next_ < records_.size() && n < max_records; ++next_, ++n) {
    RedriveRecord& r = records_[next_];
    core::RawRecord& rec = out.next();
    rec.partition = index_.at(r.partition);
    rec.position = r.position;
    rec.bytes = r.bytes;
    marks_[r.partition].insert(r.position);
    touched_[r.partition] = true;
  }
  return n;
}

core::Positions RedriveSource::positions() const {
  core::Positions out;
  for (const auto& [partition, unused] : touched_) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& p : marks_.at(partition)) j.push_back(p);
    out[redrive_partition(partition)] = j.dump();
  }
  return out;
}

}  // namespace pinstream::runtime
