#include "stream/redrive.h"

#include <nlohmann/json.hpp>

#include "connectors/delta/log_store.h"
#include "connectors/delta/table.h"
#include "connectors/parquet/reader.h"
#include "stream/core/base64.h"
#include "stream/engine_internal.h"
#include "stream/tables_owner.h"
#include "transforms/cleaner.h"

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
  namespace delta = connectors::delta;
  const std::string location = cfg.tables.root + "/" + cfg.tables.dead_letters;
  std::vector<DeadLetterRow> rows;
  PS_ASSIGN_OR_RETURN(auto root, open_tables_root(cfg.tables.root));
  auto store = delta::sub_store(root, cfg.tables.dead_letters);
  PS_ASSIGN_OR_RETURN(delta::LogListing log, delta::list_log(*store));
  if (log.commits.empty() && log.checkpoints.empty()) return rows;  // none written yet
  auto table =
      delta::DeltaTable::open(store, location, cfg.tables.dead_letters, dead_letter_schema());
  if (!table)
    return Status(table.error().code(), "the dead-letter table " + location + " cannot be read: " +
                                            table.error().message() + "; run pinstream verify");
  PS_ASSIGN_OR_RETURN(auto adds, (*table)->active_files());
  for (const auto& add : adds) {
    const std::string key = delta::data_key(add.path);
    PS_ASSIGN_OR_RETURN(std::string bytes, store->get(key));
    PS_ASSIGN_OR_RETURN(auto contents,
                        connectors::parquet::read_bytes(bytes, location + "/" + key));
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

namespace {

using Cleaners = std::vector<std::unique_ptr<transforms::Cleaner>>;

// Runs one selected dead letter through its stream's cleaner into `sel`.
void select_one(DeadLetterRow& r, uint32_t stream, const Cleaners& cleaners,
                RedriveSelection& sel) {
  ++sel.selected[r.stream];
  std::string bytes;
  // Only whole records can be processed again: a cut one kept its first bytes only.
  const bool cut =
      r.reason.find("(raw: first ") != std::string::npos || r.reason.rfind("truncated", 0) == 0;
  const bool decoded =
      r.encoding == "base64" ? core::base64_decode(r.raw, bytes) : (bytes = r.raw, true);
  core::Row row;
  Status st = cut || !decoded ? Status::invalid(r.reason) : cleaners[stream]->clean(bytes, row);
  if (!st.is_ok()) {
    ++sel.still[r.stream];
    sel.still_reason.try_emplace(r.stream, st.message());
    return;
  }
  ++sel.cleans[r.stream];
  sel.clean.push_back({stream, r.stream, r.partition, r.position, std::move(bytes)});
}

}  // namespace

core::Result<RedriveSelection> select_dead_letters(const PipelineConfig& cfg,
                                                   const std::string& stream,
                                                   const std::string& reason,
                                                   const TakenFn& taken) {
  std::map<std::string, uint32_t> index;
  Cleaners cleaners;
  for (size_t i = 0; i < cfg.streams.size(); ++i) {
    const auto& sc = cfg.streams[i];
    index[sc.name] = static_cast<uint32_t>(i);
    PS_ASSIGN_OR_RETURN(
        auto c, transforms::Cleaner::build(*sc.input, sc.steps, sc.key,
                                           static_cast<size_t>(cfg.runtime.max_record_bytes)));
    cleaners.push_back(std::move(c));
  }
  if (!stream.empty() && !index.count(stream))
    return Status::invalid("--stream " + stream + " is not a stream of " + cfg.file);
  PS_ASSIGN_OR_RETURN(auto rows, read_dead_letters(cfg));
  RedriveSelection sel;
  for (auto& r : rows) {
    if ((!stream.empty() && r.stream != stream) || !index.count(r.stream)) continue;
    if (!reason.empty() && r.reason.find(reason) == std::string::npos) continue;
    if (taken(r.partition, r.position)) continue;
    select_one(r, index[r.stream], cleaners, sel);
  }
  return sel;
}

}  // namespace pinstream::runtime
