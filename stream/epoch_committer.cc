#include "stream/epoch_committer.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace pinstream::runtime {
using core::Status;

EpochCommitter::EpochCommitter(Options opts, StateWriter& state,
                               std::map<std::string, TableSink*> tables,
                               CheckpointStore* checkpoints, Committed on_committed)
    : opts_(opts),
      state_(state),
      tables_(std::move(tables)),
      checkpoints_(checkpoints),
      on_committed_(std::move(on_committed)) {}

EpochCommitter::~EpochCommitter() {
  if (upload_.valid()) upload_.wait();
}

Status EpochCommitter::commit(SealedEpoch& sealed) {
  EpochMeta& next = sealed.meta;
  const core::Clock& clock = *opts_.clock;
  const int64_t t0 = clock.steady_micros();
  // 1. Staged files written and fsynced (and uploaded, for tables in an object store).
  PS_RETURN_IF_ERROR(finish_files(sealed));
  const int64_t t1 = clock.steady_micros();
  // 2. One synchronous state write: state changes, positions, counters, pending commits.
  PS_RETURN_IF_ERROR(state_.commit(sealed.batch, next));
  group_ = next.group;
  const int64_t t2 = clock.steady_micros();
  // 3. Table commits with txn {appId, version = epoch}, skipped when already there.
  PS_RETURN_IF_ERROR(redo(next));
  const int64_t t3 = clock.steady_micros();
  CommitTiming timing;
  timing.epoch_ms = static_cast<double>(t3 - sealed.started_micros) / 1000.0;
  timing.commit_ms = static_cast<double>(t3 - t0 + sealed.seal_micros) / 1000.0;
  spdlog::debug(
      "Epoch committed. epoch={} records={} process_ms={} seal_ms={} parquet_ms={} "
      "state_write_ms={} delta_ms={} batch_entries={} batch_bytes={}",
      next.epoch, sealed.records, (t0 - sealed.started_micros) / 1000, sealed.seal_micros / 1000,
      (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000, sealed.batch.count(),
      sealed.batch.bytes());
  if (on_committed_) on_committed_(next, std::move(sealed.lag), timing);
  // 4. A checkpoint every K epochs, and after the last one.
  if (sealed.final || next.epoch % opts_.checkpoint_every_epochs == 0)
    PS_RETURN_IF_ERROR(checkpoint(next, sealed.final));
  return Status::ok();
}

// Every table's files are durable before the state write that lists them as pending.
Status EpochCommitter::finish_files(SealedEpoch& sealed) {
  EpochMeta& next = sealed.meta;
  std::vector<std::function<Status()>> finishes;
  for (auto& [name, files] : sealed.files) {
    auto* out = &next.pending[name];
    finishes.push_back([f = files.get(), out] {
      PS_ASSIGN_OR_RETURN(*out, f->finish());
      return Status::ok();
    });
  }
  PS_RETURN_IF_ERROR(for_each_table(finishes));
  sealed.files.clear();
  // The open group's files first, in epoch order; the group ends with a due epoch.
  for (const auto& [name, adds] : group_) {
    auto& all = next.pending[name];
    all.insert(all.begin(), adds.begin(), adds.end());
  }
  std::erase_if(next.pending, [](const auto& p) { return p.second.empty(); });  // no empty commits
  next.group.clear();
  if (!sealed.flush) {
    next.group = std::move(next.pending);
    next.pending.clear();
  }
  return Status::ok();
}

bool EpochCommitter::due(int64_t epoch, bool final) const {
  return final || opts_.commit_every <= 1 || epoch % opts_.commit_every == 0 ||
         epoch % opts_.checkpoint_every_epochs == 0;
}

Status EpochCommitter::redo(const EpochMeta& meta) {
  const std::vector<std::string> app_ids = meta.app_ids();
  std::vector<std::function<Status()>> commits;
  for (const auto& [name, adds_json] : meta.pending) {
    if (adds_json.empty()) continue;  // a table without rows in the epoch gets no commit
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      spdlog::warn("Pending commit for a table no longer configured; skipped. table={}", name);
      continue;
    }
    commits.push_back([&meta, &app_ids, &name = name, &adds_json = adds_json, t = it->second] {
      // What landed before a crash is not committed twice. The txns of one commit land
      // together, so any of them at the epoch says it landed.
      bool skipped = false;
      for (const auto& app_id : app_ids) {
        std::optional<int64_t> known = t->known_txn_version(app_id);
        skipped = skipped || (known && *known >= meta.epoch);
      }
      if (!skipped) {
        PS_ASSIGN_OR_RETURN(auto done, t->commit(adds_json, app_ids, meta.epoch));
        skipped = done.skipped;
      }
      if (skipped)
        spdlog::info("Delta commit already present. table={} epoch={}", name, meta.epoch);
      return Status::ok();
    });
  }
  return for_each_table(commits);
}

Status EpochCommitter::for_each_table(const std::vector<std::function<Status()>>& parts) const {
  if (parts.size() <= 1 || !opts_.parallel_tables) {
    for (const auto& p : parts) PS_RETURN_IF_ERROR(p());
    return Status::ok();
  }
  std::vector<std::future<Status>> running;
  for (const auto& p : parts) running.push_back(std::async(std::launch::async, p));
  Status first;
  for (auto& r : running) {
    Status st = r.get();
    if (first.is_ok() && !st.is_ok()) first = st;
  }
  return first;
}

Status EpochCommitter::checkpoint(const EpochMeta& committed, bool final) {
  if (!checkpoints_) return Status::ok();
  CheckpointManifest m;
  m.id = checkpoint_id(committed.epoch);
  if (!checkpoints_->remote() && checkpoints_->has(m.id)) return Status::ok();
  m.epoch = committed.epoch;
  m.time_micros = opts_.clock->now_micros();
  m.generation = committed.generation;
  m.positions = committed.positions;
  // No read of the logs: the sinks know every version they committed (a replay restores
  // to these versions; a compaction committed since by another handle changes no row).
  for (auto& [name, t] : tables_) m.table_versions[name] = t->known_version();
  if (checkpoints_->remote() && upload_.valid()) {
    if (!final && upload_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      spdlog::info("Checkpoint skipped: the previous one is still uploading. id={}", m.id);
      return Status::ok();
    }
    PS_RETURN_IF_ERROR(wait_upload());
  }
  PS_ASSIGN_OR_RETURN(std::string dir, checkpoints_->staging_dir(m.id));
  PS_RETURN_IF_ERROR(state_.checkpoint(dir));
  if (!checkpoints_->remote()) {
    PS_RETURN_IF_ERROR(checkpoints_->publish(m));
    PS_RETURN_IF_ERROR(checkpoints_->prune(opts_.checkpoint_retention));
    spdlog::info("Checkpoint kept. id={} epoch={}", m.id, m.epoch);
    return Status::ok();
  }
  // The state checkpoint is made (hard links): the upload goes on beside the epochs.
  upload_ = std::async(std::launch::async, [this, m] {
    PS_RETURN_IF_ERROR(checkpoints_->publish(m));
    Status pruned = checkpoints_->prune(opts_.checkpoint_retention);
    if (!pruned.is_ok())
      spdlog::warn(
          "Old checkpoints were not removed; tried again after the next one. store={} "
          "error={}",
          checkpoints_->describe(), pruned.to_string());
    return Status::ok();
  });
  if (!final) return Status::ok();
  Status st = upload_.get();
  if (!st.is_ok())
    return Status(st.code(), "final checkpoint " + m.id + " was not kept: " + st.message());
  return Status::ok();
}

// A failed background upload leaves no checkpoint (its manifest is written last); the next
// one is tried, and the failure is said.
Status EpochCommitter::wait_upload() {
  if (!upload_.valid()) return Status::ok();
  Status st = upload_.get();
  if (!st.is_ok())
    spdlog::warn(
        "Checkpoint upload failed; it is not kept, the next one will be tried. "
        "store={} error={}",
        checkpoints_->describe(), st.to_string());
  return Status::ok();
}

}  // namespace pinstream::runtime
