#include "stream/consistency.h"

#include <cstdio>
#include <set>

#include "state/state_store.h"

namespace pinstream::runtime {
namespace {

std::string commit_file(const TableFacts& t, int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld.json", static_cast<long long>(version));
  return t.dir + "/_delta_log/" + buf;
}

// The generation of a txn appId of this pipeline (single or per task), or -1 for others.
int64_t generation_of(const std::string& app_id, const std::string& pipeline_id) {
  auto parsed = parse_app_id(app_id, pipeline_id);
  return parsed ? parsed->generation : -1;
}

// The tasks the state holds positions for. A per-task txn of another task belongs to another
// member of a `tasks: partitions` group sharing the tables (SPEC section 9): not this
// state's business (a task assigned to this process later is checked then, task_guard.h).
std::set<int32_t> own_tasks(const EpochMeta& m) {
  std::set<int32_t> out;
  for (const auto& [id, pos] : m.positions) out.insert(task_of_partition(id).value_or(0));
  return out;
}

bool other_members(const std::string& app_id, const std::string& pipeline_id,
                   const std::set<int32_t>& own, bool shared) {
  if (!shared) return false;
  auto parsed = parse_app_id(app_id, pipeline_id);
  return parsed && parsed->task >= 0 && !own.count(parsed->task);
}

std::string gap_problem(const TableFacts& t) {
  return "table " + t.name + ": Delta commit " + commit_file(t, t.version + 1) +
         " is missing while version " + std::to_string(t.max_commit) + " exists";
}

// A table's txn may lag the state's epoch (epochs without rows for it make no commit), but
// not the last epoch that committed rows to it; that epoch's own commit, when still
// pending, is redone at start instead.
std::string lost_commit(const EpochMeta& m, const std::string& pipeline_id, const TableFacts& t,
                        bool shared) {
  auto rec = m.table_epochs.find(t.name);
  if (rec == m.table_epochs.end() || rec->second <= 0) return "";
  auto pending = m.pending.find(t.name);
  if (rec->second == m.epoch && pending != m.pending.end() && !pending->second.empty()) return "";
  // Every txn of one commit lands with it, single-mode or per task: the newest of this
  // generation's says which epoch the table last took (so a restart may switch
  // pipeline.tasks: the other mode's appIds count as every task's).
  std::string app = m.app_ids().front();
  std::optional<int64_t> have;
  const std::set<int32_t> own = own_tasks(m);
  // Every task this state committed moved to other members (task hand-off): their txns are
  // theirs now.
  if (shared && m.positions.empty()) return "";
  for (const auto& [id, version] : t.txn) {
    if (generation_of(id, pipeline_id) != m.generation || (have && *have >= version) ||
        other_members(id, pipeline_id, own, shared))
      continue;
    app = id;
    have = version;
  }
  if (have && *have >= rec->second) return "";
  return "table " + t.name + ": the state recorded rows committed by epoch " +
         std::to_string(rec->second) + " but the table's txn " + app + " holds " +
         (!have ? std::string("no epoch") : "only epoch " + std::to_string(*have)) +
         " (a Delta commit is lost)";
}

}  // namespace

std::vector<std::string> compare_state_and_tables(const StateFacts& state,
                                                  const std::string& pipeline_id,
                                                  const std::vector<TableFacts>& tables) {
  std::vector<std::string> out;
  const EpochMeta& m = *state.meta;
  const std::set<int32_t> own = own_tasks(m);
  for (const auto& t : tables) {
    if (t.max_commit > t.version) out.push_back(gap_problem(t));
    auto rec = m.table_versions.find(t.name);
    if (!state.fresh && rec != m.table_versions.end() && t.version < rec->second)
      out.push_back("table " + t.name + ": its log ends at version " + std::to_string(t.version) +
                    " but the state recorded version " + std::to_string(rec->second) +
                    " (Delta commit " + commit_file(t, t.version + 1) + " is missing)");
    if (!state.fresh) {
      if (auto p = lost_commit(m, pipeline_id, t, state.shared_tasks); !p.empty()) out.push_back(p);
    }
    for (const auto& [app, version] : t.txn) {
      int64_t g = generation_of(app, pipeline_id);
      if (g < 0 || other_members(app, pipeline_id, own, state.shared_tasks)) continue;
      if (state.fresh) {
        out.push_back("table " + t.name + " holds epoch " + std::to_string(version) +
                      " of this pipeline (txn " + app + ") but the state in " + state.state_dir +
                      " is empty: the state was lost (or its write-ahead log damaged)");
      } else if (g > m.generation) {
        out.push_back("table " + t.name + " holds generation " + std::to_string(g) + " (txn " +
                      app + ") but the state is at generation " + std::to_string(m.generation) +
                      ": the state was rolled back");
      } else if (g == m.generation && version > m.epoch) {
        out.push_back("table " + t.name + " holds epoch " + std::to_string(version) + " (txn " +
                      app + ") but the state's last committed epoch is " + std::to_string(m.epoch) +
                      ": the state was rolled back (write-ahead log lost or damaged?)");
      }
    }
  }
  return out;
}

std::string repair_checkpoint(const std::vector<CheckpointManifest>& checkpoints,
                              const std::vector<TableFacts>& tables) {
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    bool fits = true;
    for (const auto& t : tables) {
      auto v = it->table_versions.find(t.name);
      if (v != it->table_versions.end() && v->second > t.version) fits = false;
    }
    if (fits) return it->id;
  }
  return "";
}

std::string repair_hint(const std::vector<CheckpointManifest>& checkpoints,
                        const std::vector<TableFacts>& tables, const std::string& config_file) {
  std::string id = repair_checkpoint(checkpoints, tables);
  if (id.empty())
    return "; no kept checkpoint is older than the tables: restore the data directory and tables "
           "from a backup, "
           "or delete both to rebuild from the sources";
  return "; repair with: pinstream replay --config " + config_file + " --from-checkpoint " + id;
}

core::Status check_state_against_tables(const StateFacts& state, const std::string& pipeline_id,
                                        const std::vector<TableFacts>& tables,
                                        const std::vector<CheckpointManifest>& checkpoints,
                                        const std::string& config_file) {
  auto problems = compare_state_and_tables(state, pipeline_id, tables);
  if (problems.empty()) return core::Status::ok();
  // A gap is not repaired by a replay (RESTORE would write into it): name the file only.
  for (const auto& t : tables)
    if (t.max_commit > t.version)
      return core::Status::corruption(gap_problem(t) + "; restore that file from a backup");
  return core::Status::corruption("state and tables disagree: " + problems.front() +
                                  repair_hint(checkpoints, tables, config_file));
}

core::Result<std::optional<EpochMeta>> read_epoch_meta(const std::string& state_dir) {
  state::StateStore::Options ro;
  ro.read_only = true;
  PS_ASSIGN_OR_RETURN(auto store, state::StateStore::open(state_dir, ro));
  PS_ASSIGN_OR_RETURN(auto raw, store->live().get(kEpochMetaKey));
  if (!raw) return std::optional<EpochMeta>();
  PS_ASSIGN_OR_RETURN(EpochMeta m, EpochMeta::from_json(*raw));
  return std::optional<EpochMeta>(std::move(m));
}

core::Status check_restored_checkpoint(const CheckpointManifest& m, const EpochMeta* restored) {
  const std::string what = "checkpoint " + m.id + " is damaged: ";
  if (!restored && m.epoch == 0) return core::Status::ok();  // checkpoint 0: the empty state
  if (!restored)
    return core::Status::corruption(what + "its state holds no epoch, its manifest says epoch " +
                                    std::to_string(m.epoch));
  if (restored->epoch != m.epoch || restored->generation != m.generation)
    return core::Status::corruption(
        what + "its state holds epoch " + std::to_string(restored->epoch) + " generation " +
        std::to_string(restored->generation) + ", its manifest says epoch " +
        std::to_string(m.epoch) + " generation " + std::to_string(m.generation));
  for (const auto& [name, c] : restored->counters)
    if (!c.balanced())
      return core::Status::corruption(what + "the counters of stream " + name + " do not add up");
  return core::Status::ok();
}

}  // namespace pinstream::runtime
