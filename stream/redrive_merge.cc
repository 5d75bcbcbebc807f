#include "stream/redrive_merge.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "stream/query/answer.h"

namespace pinstream::runtime {
using core::Status;
using nlohmann::json;

bool RedriveMerge::taken(const std::string& partition, const std::string& position) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = taken_.find(partition);
  return it != taken_.end() && it->second.count(position) > 0;
}

std::map<std::string, std::set<std::string>> RedriveMerge::enqueue(
    std::vector<RedriveRecord> records, std::map<std::string, int64_t>& by_stream) {
  std::map<std::string, std::set<std::string>> queued;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : records) {
    if (!taken_[r.partition].insert(r.position).second) continue;
    queued[redrive_partition(r.partition)].insert(r.position);
    ++by_stream[r.stream_name];
    queue_.push_back(std::move(r));
  }
  return queued;
}

Status RedriveMerge::open(const core::Positions& restore) {
  PS_RETURN_IF_ERROR(inner_->open(restore));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, unused] : restore) {
      if (!is_redrive_partition(id)) continue;
      const std::string partition = id.substr(std::string(kRedrivePrefix).size());
      taken_[partition] = handed_[partition] = redriven_marks(restore, partition);
    }
  }
  sync_partitions();
  return Status::ok();
}

void RedriveMerge::sync_partitions() {
  const auto& inner = inner_->partitions();
  for (size_t i = inner_index_.size(); i < inner.size(); ++i) {
    inner_index_.push_back(static_cast<uint32_t>(refs_.size()));
    renumber_ = renumber_ || refs_.size() != i;
    refs_.push_back(inner[i]);
  }
}

size_t RedriveMerge::hand_out(core::Batch& out, size_t max_records) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (; next_ < queue_.size() && n < max_records; ++next_, ++n) {
    RedriveRecord& r = queue_[next_];
    auto idx = redrive_index_.find(r.partition);
    if (idx == redrive_index_.end()) {
      idx = redrive_index_.emplace(r.partition, static_cast<uint32_t>(refs_.size())).first;
      refs_.push_back({redrive_partition(r.partition), r.stream});
    }
    core::RawRecord& rec = out.next();
    rec.partition = idx->second;
    rec.position = r.position;
    rec.bytes = std::move(r.bytes);
    handed_[r.partition].insert(r.position);
  }
  if (next_ == queue_.size()) {
    queue_.clear();
    next_ = 0;
  }
  return n;
}

core::Result<size_t> RedriveMerge::poll(core::Batch& out, std::chrono::milliseconds timeout,
                                        size_t max_records) {
  sync_partitions();  // before any redrive partition can be appended after them
  if (size_t n = hand_out(out, max_records); n > 0) return n;
  const size_t first = out.size;
  PS_ASSIGN_OR_RETURN(size_t n, inner_->poll(out, timeout, max_records));
  sync_partitions();
  if (renumber_)
    for (size_t i = first; i < out.size; ++i)
      out.records[i].partition = inner_index_[out.records[i].partition];
  return n;
}

core::Positions RedriveMerge::positions() const {
  core::Positions out = inner_->positions();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [partition, idx] : redrive_index_) {
    json j = json::array();
    for (const auto& p : handed_.at(partition)) j.push_back(p);
    out[redrive_partition(partition)] = j.dump();
  }
  return out;
}

bool RedriveMerge::drained() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (next_ < queue_.size()) return false;
  }
  return inner_->drained();
}

std::map<uint32_t, int64_t> RedriveMerge::lag() const {
  std::map<uint32_t, int64_t> out;
  for (const auto& [idx, lag] : inner_->lag())
    if (idx < inner_index_.size()) out[inner_index_[idx]] = lag;
  return out;
}

Status RedriveMerge::on_epoch_committed(const core::Positions& committed) {
  core::Positions own;
  for (const auto& [id, pos] : committed)
    if (!is_redrive_partition(id)) own[id] = pos;
  return inner_->on_epoch_committed(own);
}

namespace {

// Whether every mark in `queued` is among the committed positions.
bool committed_all(const std::map<std::string, std::set<std::string>>& queued,
                   const CommittedView& view) {
  for (const auto& [id, positions] : queued) {
    auto marks = redriven_marks(view.meta.positions, id.substr(std::string(kRedrivePrefix).size()));
    for (const auto& p : positions)
      if (!marks.count(p)) return false;
  }
  return true;
}

json counts(const RedriveSelection& sel, const std::map<std::string, int64_t>& redriven) {
  json streams = json::object();
  auto at = [](const std::map<std::string, int64_t>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? int64_t{0} : it->second;
  };
  for (const auto& [stream, n] : sel.selected) {
    json s = {{"selected", n},
              {"cleans", at(sel.cleans, stream)},
              {"redriven", at(redriven, stream)},
              {"still_failing", at(sel.still, stream)}};
    auto ex = sel.still_reason.find(stream);
    if (ex != sel.still_reason.end()) s["example"] = ex->second;
    streams[stream] = s;
  }
  return streams;
}

}  // namespace

std::string handle_redrive(const std::string& request_json, const PipelineConfig& cfg,
                           RedriveMerge& merge, const std::function<CommittedView()>& committed,
                           int64_t wait_ms) {
  static std::mutex one_at_a_time;
  std::lock_guard<std::mutex> lock(one_at_a_time);
  json req = json::parse(request_json, nullptr, false);
  std::string stream, reason;
  bool dry_run = false;
  try {
    if (req.contains("stream")) stream = req.at("stream").get<std::string>();
    if (req.contains("reason")) reason = req.at("reason").get<std::string>();
    if (req.contains("dry_run")) dry_run = req.at("dry_run").get<bool>();
  } catch (const json::exception&) {
    return error_json(ErrorCode::kBadRequest,
                      "\"redrive\" takes \"stream\" and \"reason\" strings, \"dry_run\" a bool");
  }
  auto sel = select_dead_letters(cfg, stream, reason, [&merge](const auto& p, const auto& pos) {
    return merge.taken(p, pos);
  });
  if (!sel)
    return error_json(sel.error().code() == core::StatusCode::kInvalidArgument
                          ? ErrorCode::kBadRequest
                          : ErrorCode::kUnavailable,
                      sel.error().message());
  std::map<std::string, int64_t> redriven;
  if (!dry_run) {
    auto queued = merge.enqueue(std::move(sel->clean), redriven);
    spdlog::info("Redrive queued. partitions={}", queued.size());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (!committed_all(queued, committed())) {
      if (std::chrono::steady_clock::now() > deadline)
        return error_json(ErrorCode::kUnavailable,
                          "the redriven records were queued but no epoch "
                          "committed them yet; see pinstream query --stats");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return json({{"ok", true}, {"dry_run", dry_run}, {"streams", counts(*sel, redriven)}}).dump();
}

}  // namespace pinstream::runtime
