// Engine: closing windows and expiring join entries at a seal, the epoch committer's
// wiring, the checkpoint store and replay restore.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <set>
#include <string_view>

#include "stream/checkpoint_store.h"
#include "stream/checkpoints.h"
#include "stream/engine_internal.h"
#include "stream/task_guard.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Result;
using core::Status;

int64_t Engine::watermark() const {
  if (plan_->event_time_stream < 0) return std::numeric_limits<int64_t>::min();
  int64_t wm = std::numeric_limits<int64_t>::max();
  bool any = false;
  size_t counted = 0;
  for (const auto& p : parts_) {
    if (static_cast<int>(p.stream) != plan_->event_time_stream) continue;
    if (!released_.empty() && released_.count(task_of(p))) continue;  // another member's now
    auto it = meta_.event_time_max.find(p.id);
    if (it == meta_.event_time_max.end()) return std::numeric_limits<int64_t>::min();
    wm = std::min(wm, it->second - plan_->allowed_lateness_micros);
    any = true;
    ++counted;
  }
  // A task imported from another member: its partitions not read here yet hold the watermark
  // with the event-time maxima its checkpoint brought (their records may still fall in the
  // windows those allow to stay open).
  if (cfg_.tasks == TaskMode::kPartitions && meta_.event_time_max.size() > counted) {
    std::set<std::string_view> seen;
    for (const auto& p : parts_) seen.insert(p.id);
    for (const auto& [id, max] : meta_.event_time_max)
      if (!seen.count(id)) {
        wm = std::min(wm, max - plan_->allowed_lateness_micros);
        any = true;
      }
  }
  return any ? wm : std::numeric_limits<int64_t>::min();
}

// Engine thread, before the seal: join entries past their expiry leave the join (counted
// and recorded), then windows the watermark passed and no waiting post holds become rows.
Status Engine::close_windows_and_expire(bool final) {
  if (!joins_.empty()) {
    std::vector<state::Join::Expired> expired;
    PS_RETURN_IF_ERROR(expire_joins(expired));
    seal_changed_ = seal_changed_ || !expired.empty();
    PS_RETURN_IF_ERROR(record_expired(expired));
  }
  if (aggregates_) {
    bool close_all = final && opts_.until_idle;
    std::map<std::string, std::vector<core::Row>> window_rows;
    state::Aggregates::HeldQuery held;
    // A window stays open while any task's join holds a post in it.
    if (joins_.size() == 1) {
      held = [join = joins_.begin()->second](int64_t s, int64_t e) {
        return join->holds_between(s, e);
      };
    } else if (!joins_.empty()) {
      held = [this](int64_t s, int64_t e) {
        for (const auto& [task, join] : joins_)
          if (join->holds_between(s, e)) return true;
        return false;
      };
    }
    const int64_t wm = close_all ? std::numeric_limits<int64_t>::max() : watermark();
    // Shared by the members of a group: the writer merges every task's partials.
    if (shared_windows_)
      PS_RETURN_IF_ERROR(close_shared_windows(wm, close_all, held));
    else
      PS_RETURN_IF_ERROR(aggregates_->close_windows(wm, close_all, held, window_rows));
    // Only a final close can leave a post behind: it is counted, never silent.
    if (int64_t skipped = aggregates_->skipped_closed(); skipped > skipped_closed_logged_) {
      spdlog::warn(
          "Rows arrived for windows already emitted at the end of an --until-idle run; they are "
          "not in "
          "those windows. rows={}",
          skipped - skipped_closed_logged_);
      skipped_closed_logged_ = skipped;
    }
    PS_RETURN_IF_ERROR(append_window_rows(window_rows));
  }
  return Status::ok();
}

core::Schema join_expired_schema() {
  using core::Type;
  return core::Schema({{"key", Type::kLong, false},
                       {"arrived", Type::kString, false},
                       {"missing", Type::kString, false},
                       {"event_time", Type::kTimestamp, true},
                       {"first_arrival", Type::kTimestamp, false},
                       {"time", Type::kTimestamp, false}});
}

Status Engine::record_expired(const std::vector<state::Join::Expired>& expired) {
  if (expired.empty()) return Status::ok();
  TableRt* t = table(cfg_.tables.join_expired);
  if (!t)
    return Status::internal("no table '" + cfg_.tables.join_expired + "' for expired join parts");
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
    if (e.hold)
      row[3].set_timestamp(*e.hold);
    else
      row[3].set_null();
    row[4].set_timestamp(e.first_arrival);
    row[5].set_timestamp(now);
    CpuTimer timer(encode_cpu_us_);
    PS_RETURN_IF_ERROR(t->append(row));
  }
  spdlog::info("Join entries expired before all their parts came; recorded. count={} table={}",
               expired.size(), cfg_.tables.join_expired);
  return Status::ok();
}

void Engine::wire_committer() {
  state_writer_ = std::make_unique<StoreStateWriter>(*store_);
  std::map<std::string, TableSink*> sinks;
  for (auto& [name, t] : tables_) {
    t->sink = std::make_unique<DeltaTableSink>(*t->table);
    sinks[name] = t->sink.get();
  }
  EpochCommitter::Options o;
  o.parallel_tables = connectors::objstore::is_remote_url(cfg_.tables.root);
  o.checkpoint_every_epochs = cfg_.runtime.checkpoint_every_epochs;
  o.checkpoint_retention = cfg_.runtime.checkpoint_retention;
  o.commit_every = cfg_.tables.commit_every;
  o.clock = opts_.clock;
  committer_ = std::make_unique<EpochCommitter>(
      o, *state_writer_, std::move(sinks), checkpoints_.get(),
      [this](const EpochMeta& m, std::map<std::string, int64_t> lag, const CommitTiming& t) {
        on_committed(m, std::move(lag), t);
      });
  commit_thread_ = std::make_unique<CommitThread>(*committer_);
}

// The committing thread: the epoch is committed.
void Engine::on_committed(const EpochMeta& committed, std::map<std::string, int64_t> lag,
                          const CommitTiming& timing) {
  metrics_.epoch_ms.observe(timing.epoch_ms);
  metrics_.commit_ms.observe(timing.commit_ms);
  // The compactor looks at once: SPEC's live-file bound holds at every version.
  if (compactor_)
    for (const auto& [name, adds] : committed.pending) compactor_->notify(name);
  publish(committed, std::move(lag));
}

std::vector<CheckpointManifest> Engine::checkpoint_list() const {
  if (!checkpoints_) return {};
  auto all = checkpoints_->list();
  return all ? std::move(*all) : std::vector<CheckpointManifest>{};
}

Result<std::string> Engine::open_checkpoints() {
  PS_ASSIGN_OR_RETURN(checkpoints_,
                      open_checkpoint_store(member_checkpoints_dir(cfg_), cfg_.runtime.data_dir));
  PS_RETURN_IF_ERROR(checkpoints_->check());
  PS_RETURN_IF_ERROR(open_task_store());
  std::error_code ec;
  fs::remove_all(checkpoint_scratch_dir(cfg_.runtime.data_dir), ec);  // left by a kill
  if (!opts_.replay_from.empty()) return opts_.replay_from;
  if (cfg_.runtime.checkpoints.empty() || fs::exists(cfg_.runtime.state_dir()))
    return std::string();
  PS_ASSIGN_OR_RETURN(auto all, checkpoints_->list());
  if (all.empty()) return std::string();
  spdlog::info(
      "No state in {}: going on from the newest checkpoint in the checkpoint store. "
      "store={} id={}",
      cfg_.runtime.state_dir(), checkpoints_->describe(), all.back().id);
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
    PS_ASSIGN_OR_RETURN(int64_t latest, t->sink->latest_version());
    if (latest > version) {
      PS_ASSIGN_OR_RETURN(int64_t v, t->sink->restore(version));
      spdlog::info("Table restored. table={} to_version={} new_version={}", name, version, v);
    }
  }
  meta_.generation = replay_generation_;
  meta_.pending.clear();
  meta_.group.clear();         // the restored tables hold none of the open group's files
  meta_.table_epochs.clear();  // the new generation has committed nothing yet
  state::StateStore::WriteBatch batch;
  return state_writer_->commit(batch, meta_);
}

CommittedView Engine::committed() const {
  CommittedView v;
  {
    std::lock_guard<std::mutex> lock(published_mu_);
    v = published_;
  }
  // Live: compaction and vacuum run between commits (and an idle daemon commits none).
  if (compactor_) v.metrics.upkeep = compactor_->counts();
  return v;
}

void Engine::publish(const EpochMeta& committed, std::map<std::string, int64_t> lag) {
  CommittedView v;
  v.epoch = committed.epoch;
  v.reader = store_->snapshot();
  v.meta = committed;
  metrics_.state_bytes = store_->approximate_size();
  metrics_.lag_unit = source_->lag_unit();
  metrics_.lag = std::move(lag);
  metrics_.task_total = source_->task_count();
  metrics_.encode_cpu_us = encode_cpu_us_.load();
  metrics_.cpu_us = core::process_cpu_micros();
  v.metrics = metrics_;
  std::lock_guard<std::mutex> lock(published_mu_);
  published_ = std::move(v);
}

std::map<std::string, int64_t> Engine::table_versions() const {
  std::map<std::string, int64_t> out;
  for (const auto& [name, t] : tables_) out[name] = t->table->known_version();
  return out;
}

}  // namespace pinstream::runtime
