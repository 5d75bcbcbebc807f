// Engine: the start-up and replay checks that the state and the tables agree (SPEC section
// 6), and the repair hints of their refusals. The comparison itself is stream/consistency.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "connectors/delta/inspect.h"
#include "stream/consistency.h"
#include "stream/engine_internal.h"
#include "stream/table_open.h"
#include "stream/task_guard.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using core::Status;

// Per table: its log re-read once (version and txn from the same snapshot) and listed. Tables
// in an object store are asked concurrently; the first failure in table order is returned.
core::Result<std::vector<TableFacts>> Engine::table_facts() {
  std::vector<TableRt*> ts;
  for (auto& [name, t] : tables_) ts.push_back(t.get());
  std::vector<TableFacts> out(ts.size());
  std::vector<Status> errors(ts.size());
  auto facts_of = [&](size_t i) {
    TableFacts& f = out[i];
    f.name = ts[i]->name;
    f.dir = ts[i]->table->dir();
    auto snap = ts[i]->table->latest_snapshot();
    if (!snap) {
      errors[i] = snap.error();
      return;
    }
    f.version = (*snap)->version;
    f.txn = (*snap)->txn;
    auto max = connectors::delta::max_commit_version(ts[i]->table->store());
    if (!max) {
      errors[i] = max.error();
      return;
    }
    f.max_commit = *max;
  };
  if (connectors::objstore::is_remote_url(cfg_.tables.root)) {
    for_each_index(ts.size(), kOpenThreads, facts_of);
  } else {
    for (size_t i = 0; i < ts.size(); ++i) {
      facts_of(i);
      if (!errors[i].is_ok()) break;
    }
  }
  for (const Status& st : errors) PS_RETURN_IF_ERROR(st);
  return out;
}

Status Engine::check_tables_agree(bool fresh) {
  PS_ASSIGN_OR_RETURN(auto facts, table_facts());
  StateFacts state{&meta_, fresh, cfg_.runtime.state_dir(), shares_tasks(cfg_)};
  // The checkpoints are read only for the repair hint of a refusal.
  if (!compare_state_and_tables(state, cfg_.id, facts).empty())
    return check_state_against_tables(state, cfg_.id, facts, checkpoint_list(), cfg_.file);
  for (const auto& f : facts) meta_.table_versions[f.name] = f.version;
  // The last epoch's data files about to be committed again must be whole (where the commit
  // already landed they are the table's business, checked by verify).
  for (const auto& [name, adds] : meta_.pending) {
    TableRt* t = table(name);
    auto f = std::find_if(facts.begin(), facts.end(),
                          [&](const TableFacts& x) { return x.name == name; });
    if (!t || f == facts.end()) continue;
    const auto apps = meta_.app_ids();
    if (std::any_of(apps.begin(), apps.end(), [&](const std::string& app) {
          auto landed = f->txn.find(app);
          return landed != f->txn.end() && landed->second >= meta_.epoch;
        }))
      continue;
    for (const auto& j : adds) {
      PS_ASSIGN_OR_RETURN(auto add, connectors::delta::AddFile::from_json(j));
      std::string problem = connectors::delta::check_file(t->table->store(), add, false);
      if (!problem.empty())
        return Status::corruption("table " + name + ": " + problem + " (written by epoch " +
                                  std::to_string(meta_.epoch) + ")" +
                                  repair_hint(checkpoint_list(), facts, cfg_.file));
    }
  }
  return Status::ok();
}

// Replay restores each table to the checkpoint's version: the log must reach it, unbroken.
Status Engine::check_tables_restorable() {
  PS_ASSIGN_OR_RETURN(auto facts, table_facts());
  // The new generation must be new to the tables too (the live state that knew the newest
  // one may be lost): a reused appId would skip the replayed epochs as already present.
  for (const auto& f : facts)
    for (const auto& [app, v] : f.txn)
      if (auto parsed = parse_app_id(app, cfg_.id))
        replay_generation_ = std::max<int64_t>(replay_generation_, parsed->generation + 1);
  for (const auto& f : facts) {
    if (f.max_commit > f.version) {
      EpochMeta none;
      auto problems = compare_state_and_tables(StateFacts{&none, false, ""}, cfg_.id, {f});
      return Status::corruption(problems.front() + "; restore that file from a backup");
    }
    auto want = replay_->table_versions.find(f.name);
    if (want != replay_->table_versions.end() && want->second > f.version) {
      return Status::corruption("table " + f.name + ": its log ends at version " +
                                std::to_string(f.version) + " but checkpoint " + replay_->id +
                                " needs version " + std::to_string(want->second) +
                                repair_hint(checkpoint_list(), facts, cfg_.file));
    }
  }
  return Status::ok();
}

// A damaged Delta log refuses the table at open: the message gets the replay command.
Status Engine::with_table_repair_hint(const Status& st, const std::string& dir) const {
  if (st.code() != core::StatusCode::kCorruption) return st;
  TableFacts f;
  f.name = fs::path(dir).filename().string();
  auto report =
      connectors::delta::inspect_log(*connectors::delta::sub_store(tables_store_, f.name));
  f.dir = dir;
  f.version = report.snapshot.version;
  std::string id = repair_checkpoint(checkpoint_list(), {f});
  if (id.empty()) return st;
  return Status::corruption(st.message() +
                            "; move that file away, then repair with: pinstream replay --config " +
                            cfg_.file + " --from-checkpoint " + id);
}

// Before replay replaces the state: the checkpoint's own state must be what its manifest
// says (a damaged write-ahead log in it would restore an older, nearly empty state).
Status Engine::check_checkpoint_state(const CheckpointManifest& m, const std::string& state) const {
  auto meta = read_epoch_meta(state);
  Status st =
      meta ? check_restored_checkpoint(m, *meta ? &**meta : nullptr)
           : Status::corruption("checkpoint " + m.id + " is damaged: " + meta.error().message());
  if (st.is_ok()) return st;
  std::string older;
  for (const auto& c : checkpoint_list())
    if (c.epoch < m.epoch) older = c.id;
  return Status::corruption(st.message() + (older.empty()
                                                ? "; no older checkpoint is kept"
                                                : "; try an older one: pinstream replay --config " +
                                                      cfg_.file + " --from-checkpoint " + older));
}

}  // namespace pinstream::runtime
