// Engine: the epoch commit protocol (SPEC section 6), checkpoints and replay restore.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>

#include "stream/checkpoint_store.h"
#include "stream/checkpoints.h"
#include "stream/engine_internal.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Result;
using core::Status;

int64_t Engine::watermark() const {
  if (plan_->event_time_stream < 0) return std::numeric_limits<int64_t>::min();
  int64_t wm = std::numeric_limits<int64_t>::max();
  bool any = false;
  for (const auto& p : parts_) {
    if (static_cast<int>(p.stream) != plan_->event_time_stream) continue;
    auto it = meta_.event_time_max.find(p.id);
    if (it == meta_.event_time_max.end()) return std::numeric_limits<int64_t>::min();
    wm = std::min(wm, it->second - plan_->allowed_lateness_micros);
    any = true;
  }
  return any ? wm : std::numeric_limits<int64_t>::min();
}

// Engine thread, before the seal: join entries past their expiry leave the join (counted
// and recorded), then windows the watermark passed and no waiting post holds become rows.
Status Engine::close_windows_and_expire(bool final) {
  if (plan_->join) {
    std::vector<state::Join::Expired> expired;
    PS_RETURN_IF_ERROR(plan_->join->expire(opts_.clock->now_micros(), &expired).status());
    PS_RETURN_IF_ERROR(record_expired(expired));
  }
  if (plan_->aggregates) {
    bool close_all = final && opts_.until_idle;
    std::map<std::string, std::vector<core::Row>> window_rows;
    state::Aggregates::HeldQuery held;
    if (plan_->join) held = [join = plan_->join.get()](int64_t s, int64_t e) { return join->holds_between(s, e); };
    PS_RETURN_IF_ERROR(plan_->aggregates->close_windows(close_all ? std::numeric_limits<int64_t>::max() : watermark(),
                                                        close_all, held,
                                                        window_rows));
    // Only a final close can leave a post behind: it is counted, never silent.
    if (int64_t skipped = plan_->aggregates->skipped_closed(); skipped > skipped_closed_logged_) {
      spdlog::warn("Rows arrived for windows already emitted at the end of an --until-idle run; they are not in "
                   "those windows. rows={}", skipped - skipped_closed_logged_);
      skipped_closed_logged_ = skipped;
    }
    for (auto& [name, rows] : window_rows) {
      TableRt* t = table(name);
      if (!t) return Status::internal("no table for closed windows of '" + name + "'");
      CpuTimer timer(encode_cpu_us_);
      for (const auto& r : rows) PS_RETURN_IF_ERROR(t->append(r));
    }
  }
  return Status::ok();
}

core::Schema join_expired_schema() {
  using core::Type;
  return core::Schema({{"key", Type::kLong, false}, {"arrived", Type::kString, false},
                       {"missing", Type::kString, false}, {"event_time", Type::kTimestamp, true},
                       {"first_arrival", Type::kTimestamp, false}, {"time", Type::kTimestamp, false}});
}

Status Engine::record_expired(const std::vector<state::Join::Expired>& expired) {
  if (expired.empty()) return Status::ok();
  TableRt* t = table(cfg_.tables.join_expired);
  if (!t) return Status::internal("no table '" + cfg_.tables.join_expired + "' for expired join parts");
  const int64_t now = opts_.clock->now_micros();
  core::Row row(6);
  for (const auto& e : expired) {
    std::string arrived, missing;
    for (size_t k = 0; k < e.present.size() && k < cfg_.join.streams.size(); ++k) {
      std::string& to = e.present[k] ? arrived : missing;
      if (!to.empty()) to += ",";
      to += cfg_.join.streams[k];
      if (e.present[k]) meta_.counters[cfg_.join.streams[k]].expired++;
    }
    row[0].set_long(e.key);
    row[1].set_string(arrived);
    row[2].set_string(missing);
    if (e.hold) row[3].set_timestamp(*e.hold);
    else row[3].set_null();
    row[4].set_timestamp(e.first_arrival);
    row[5].set_timestamp(now);
    CpuTimer timer(encode_cpu_us_);
    PS_RETURN_IF_ERROR(t->append(row));
  }
  spdlog::info("Join entries expired before all their parts came; recorded. count={} table={}", expired.size(),
               cfg_.tables.join_expired);
  return Status::ok();
}

// Runs on its own thread while the engine and ingest threads go on with the next epoch:
// it touches only what the seal handed over, the state store and the Delta tables' logs.
Status Engine::commit_epoch(Sealed& sealed) {
  EpochMeta& next = sealed.next;
  const int64_t t0 = opts_.clock->steady_micros();
  // 1. Staged Parquet files written and fsynced (and uploaded, for tables in an object store).
  std::vector<std::function<Status()>> finishes;
  for (auto& [name, writer] : sealed.writers) {
    auto* out = &next.pending[name];
    finishes.push_back([this, w = writer.get(), out] {
      CpuTimer timer(encode_cpu_us_);
      PS_ASSIGN_OR_RETURN(auto adds, w->finish());
      for (const auto& a : adds) out->push_back(a.to_json());
      return Status::ok();
    });
  }
  PS_RETURN_IF_ERROR(for_each_table(finishes));
  sealed.writers.clear();
  std::erase_if(next.pending, [](const auto& p) { return p.second.empty(); });  // no empty commits
  const int64_t t1 = opts_.clock->steady_micros();
  // 2. One synchronous RocksDB write: state changes, positions, counters, pending commits.
  sealed.batch.put(kEpochMetaKey, next.to_json());
  PS_RETURN_IF_ERROR(store_->write(sealed.batch, true));
  const int64_t t2 = opts_.clock->steady_micros();
  // 3. Delta commits with txn {appId, version = epoch}, skipped when already there.
  PS_RETURN_IF_ERROR(apply_table_commits(next));
  const int64_t t3 = opts_.clock->steady_micros();
  metrics_.epoch_ms.observe(static_cast<double>(t3 - sealed.started) / 1000.0);
  metrics_.commit_ms.observe(static_cast<double>(t3 - t0 + sealed.seal_micros) / 1000.0);
  spdlog::debug("Epoch committed. epoch={} records={} process_ms={} seal_ms={} parquet_ms={} state_write_ms={} "
                "delta_ms={} batch_entries={} batch_bytes={}",
                next.epoch, sealed.records, (t0 - sealed.started) / 1000, sealed.seal_micros / 1000, (t1 - t0) / 1000,
                (t2 - t1) / 1000, (t3 - t2) / 1000, sealed.batch.count(), sealed.batch.bytes());
  publish(next, std::move(sealed.lag));
  if (sealed.final || next.epoch % cfg_.runtime.checkpoint_every_epochs == 0)
    PS_RETURN_IF_ERROR(maybe_checkpoint(next, sealed.final));
  return Status::ok();
}

Status Engine::apply_table_commits(const EpochMeta& meta) {
  std::vector<std::function<Status()>> commits;
  for (const auto& [name, adds_json] : meta.pending) {
    if (adds_json.empty()) continue;  // a table without rows in the epoch gets no commit
    TableRt* t = table(name);
    if (!t) {
      spdlog::warn("Pending commit for a table no longer configured; skipped. table={}", name);
      continue;
    }
    commits.push_back([&meta, &name = name, &adds_json = adds_json, t] {
      std::vector<connectors::delta::AddFile> adds;
      for (const auto& j : adds_json) {
        PS_ASSIGN_OR_RETURN(auto a, connectors::delta::AddFile::from_json(j));
        adds.push_back(std::move(a));
      }
      PS_ASSIGN_OR_RETURN(auto outcome, t->table->commit(adds, meta.app_id(), meta.epoch));
      if (outcome.skipped)
        spdlog::info("Delta commit already present. table={} epoch={}", name, meta.epoch);
      return Status::ok();
    });
  }
  return for_each_table(commits);
}

// Each table's part runs on this thread for local tables (a few fsyncs each); for tables
// in an object store, where each part waits on network round trips, one thread per table.
// Every part runs to its end; the first failure is returned.
Status Engine::for_each_table(const std::vector<std::function<Status()>>& parts) const {
  if (parts.size() <= 1 || !connectors::objstore::is_remote_url(cfg_.tables.root)) {
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

Status Engine::maybe_checkpoint(const EpochMeta& committed, bool final) {
  CheckpointManifest m;
  m.id = checkpoint_id(committed.epoch);
  if (!checkpoints_->remote() && checkpoints_->has(m.id)) return Status::ok();
  m.epoch = committed.epoch;
  m.time_micros = opts_.clock->now_micros();
  m.generation = committed.generation;
  m.positions = committed.positions;
  for (auto& [name, t] : tables_) {
    PS_ASSIGN_OR_RETURN(m.table_versions[name], t->table->latest_version());
  }
  if (checkpoints_->remote() && upload_.valid()) {
    if (!final && upload_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      spdlog::info("Checkpoint skipped: the previous one is still uploading. id={}", m.id);
      return Status::ok();
    }
    PS_RETURN_IF_ERROR(wait_upload());
  }
  PS_ASSIGN_OR_RETURN(std::string dir, checkpoints_->staging_dir(m.id));
  PS_RETURN_IF_ERROR(store_->checkpoint(dir));
  if (!checkpoints_->remote()) {
    PS_RETURN_IF_ERROR(checkpoints_->publish(m));
    PS_RETURN_IF_ERROR(checkpoints_->prune(cfg_.runtime.checkpoint_retention));
    spdlog::info("Checkpoint kept. id={} epoch={}", m.id, m.epoch);
    return Status::ok();
  }
  // The RocksDB checkpoint is made (hard links): the upload goes on beside the epochs.
  upload_ = std::async(std::launch::async, [this, m] {
    PS_RETURN_IF_ERROR(checkpoints_->publish(m));
    Status pruned = checkpoints_->prune(cfg_.runtime.checkpoint_retention);
    if (!pruned.is_ok())
      spdlog::warn("Old checkpoints were not removed; tried again after the next one. store={} "
                   "error={}", checkpoints_->describe(), pruned.to_string());
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
Status Engine::wait_upload() {
  if (!upload_.valid()) return Status::ok();
  Status st = upload_.get();
  if (!st.is_ok())
    spdlog::warn("Checkpoint upload failed; it is not kept, the next one will be tried. "
                 "store={} error={}", checkpoints_->describe(), st.to_string());
  return Status::ok();
}

std::vector<CheckpointManifest> Engine::checkpoint_list() const {
  if (!checkpoints_) return {};
  auto all = checkpoints_->list();
  return all ? std::move(*all) : std::vector<CheckpointManifest>{};
}

Result<std::string> Engine::open_checkpoints() {
  PS_ASSIGN_OR_RETURN(checkpoints_,
                      open_checkpoint_store(cfg_.runtime.checkpoints_dir(), cfg_.runtime.data_dir));
  PS_RETURN_IF_ERROR(checkpoints_->check());
  std::error_code ec;
  fs::remove_all(checkpoint_scratch_dir(cfg_.runtime.data_dir), ec);  // left by a kill
  if (!opts_.replay_from.empty()) return opts_.replay_from;
  if (cfg_.runtime.checkpoints.empty() || fs::exists(cfg_.runtime.state_dir()))
    return std::string();
  PS_ASSIGN_OR_RETURN(auto all, checkpoints_->list());
  if (all.empty()) return std::string();
  spdlog::info("No state in {}: going on from the newest checkpoint in the checkpoint store. "
               "store={} id={}", cfg_.runtime.state_dir(), checkpoints_->describe(), all.back().id);
  return std::string("latest");
}

// Replay: the state directory becomes a copy of the checkpoint's, every table is restored
// to its recorded version, and a new generation (txn appId) starts.
Status Engine::restore_checkpoint(const std::string& id) {
  PS_ASSIGN_OR_RETURN(CheckpointManifest m, checkpoints_->find(id));
  const std::string fetched = checkpoint_scratch_dir(cfg_.runtime.data_dir) + "/restore-" + m.id;
  PS_ASSIGN_OR_RETURN(std::string cp_state, checkpoints_->materialize(m, fetched));
  PS_RETURN_IF_ERROR(check_checkpoint_state(m, cp_state));
  int64_t generation = m.generation;
  {
    // The newest generation ever used is in the live state: the new one must exceed it.
    auto live = state::StateStore::open(cfg_.runtime.state_dir());
    if (live) {
      auto raw = (*live)->live().get(kEpochMetaKey);
      if (raw && *raw) {
        auto lm = EpochMeta::from_json(**raw);
        if (lm) generation = std::max(generation, lm->generation);
      }
    }
  }
  PS_RETURN_IF_ERROR(
      state::StateStore::restore_from_checkpoint(cp_state, cfg_.runtime.state_dir()));
  std::error_code ec;
  if (checkpoints_->remote()) fs::remove_all(fetched, ec);
  replay_ = m;
  replay_generation_ = generation + 1;
  spdlog::info("Restored state from checkpoint. id={} epoch={} generation={} from={}", m.id,
               m.epoch, replay_generation_, checkpoints_->describe());
  return Status::ok();
}

Status Engine::finish_replay_restore() {
  for (const auto& [name, version] : replay_->table_versions) {
    TableRt* t = table(name);
    if (!t) continue;
    PS_ASSIGN_OR_RETURN(int64_t latest, t->table->latest_version());
    if (latest > version) {
      PS_ASSIGN_OR_RETURN(int64_t v, t->table->restore(version));
      spdlog::info("Table restored. table={} to_version={} new_version={}", name, version, v);
    }
  }
  meta_.generation = replay_generation_;
  meta_.pending.clear();
  meta_.table_epochs.clear();  // the new generation has committed nothing yet
  state::StateStore::WriteBatch batch;
  batch.put(kEpochMetaKey, meta_.to_json());
  return store_->write(batch, true);
}

}  // namespace pinstream::runtime
