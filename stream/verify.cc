#include "stream/verify.h"

#include <filesystem>
#include <set>

#include "connectors/delta/inspect.h"
#include "stream/checkpoint_store.h"
#include "stream/checkpoints.h"
#include "stream/consistency.h"
#include "stream/task_guard.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using connectors::objstore::ObjectStore;

namespace {

// Tables under the root: the names with a `<name>/_delta_log/` object.
core::Result<std::set<std::string>> tables_present(ObjectStore& root) {
  PS_ASSIGN_OR_RETURN(auto objects, root.list(""));
  std::set<std::string> names;
  for (const auto& o : objects) {
    const auto slash = o.key.find('/');
    if (slash != std::string::npos && o.key.compare(slash, 12, "/_delta_log/") == 0)
      names.insert(o.key.substr(0, slash));
  }
  return names;
}

// Tables to check: every table under the root, and every table the state or a checkpoint
// names (one that vanished is a problem too).
std::set<std::string> table_names(const std::set<std::string>& present, const EpochMeta& meta,
                                  const std::vector<CheckpointManifest>& cps) {
  std::set<std::string> names = present;
  for (const auto& [name, v] : meta.table_versions) names.insert(name);
  for (const auto& m : cps)
    for (const auto& [name, v] : m.table_versions) names.insert(name);
  return names;
}

void check_checkpoints(const std::vector<CheckpointManifest>& cps, CheckpointStore* store,
                       const EpochMeta& state, const std::vector<TableFacts>& tables,
                       VerifyReport& r) {
  for (const auto& m : cps) {
    ++r.checkpoints;
    // A checkpoint pruned by a running daemon meanwhile is no problem (problems() says none).
    for (auto& p : store->problems(m)) r.problems.push_back(std::move(p));
    if (m.generation == state.generation && m.epoch > state.epoch)
      r.problems.push_back("checkpoint " + m.id + " is at epoch " + std::to_string(m.epoch) +
                           ", after the state's last committed epoch " +
                           std::to_string(state.epoch));
    for (const auto& t : tables) {
      auto v = m.table_versions.find(t.name);
      if (v != m.table_versions.end() && v->second > t.version)
        r.problems.push_back("checkpoint " + m.id + " records table " + t.name + " at version " +
                             std::to_string(v->second) + " but its log ends at version " +
                             std::to_string(t.version));
    }
  }
}

// The state's epoch metadata; `fresh` when it holds none. A state that cannot be read is a
// problem (and compares as fresh).
EpochMeta read_state(const PipelineConfig& cfg, bool& fresh, std::vector<std::string>* problems) {
  fresh = true;
  auto read = read_epoch_meta(cfg.runtime.state_dir());
  if (read && *read) {
    fresh = false;
    return **read;
  }
  if (!read && read.error().code() != core::StatusCode::kNotFound && problems)
    problems->push_back("the state in " + cfg.runtime.state_dir() +
                        " cannot be read: " + read.error().message());
  return EpochMeta();
}

TableFacts facts_of(const std::string& name, const std::string& dir,
                    const connectors::delta::LogReport& log) {
  TableFacts f;
  f.name = name;
  f.dir = dir;
  f.version = log.snapshot.version;
  f.max_commit = f.version;  // a gap is reported by inspect_log already
  f.txn = log.snapshot.txn;
  return f;
}

using NamedStores = std::vector<std::pair<std::string, std::shared_ptr<ObjectStore>>>;

// Each table's log and files checked into `r`; the stores of the tables present.
NamedStores check_tables(const PipelineConfig& cfg, const std::shared_ptr<ObjectStore>& root,
                         const std::set<std::string>& names, const std::set<std::string>& present,
                         VerifyReport& r) {
  NamedStores tables;
  for (const auto& name : names) {
    ++r.tables;
    if (!present.count(name)) {
      r.problems.push_back("table " + name + " is missing (" + cfg.tables.root + "/" + name +
                           "/_delta_log)");
      continue;
    }
    auto table_store = connectors::delta::sub_store(root, name);
    tables.push_back({name, table_store});
    auto log = connectors::delta::inspect_log(*table_store);
    for (const auto& p : log.problems) r.problems.push_back("table " + name + ": " + p);
    for (const auto& p : connectors::delta::check_files(*table_store, log.snapshot, r.files))
      r.problems.push_back("table " + name + ": " + p);
  }
  return tables;
}

// The tables' facts read between two reads of the state that agree (`meta` and `fresh` are
// updated to the last): a daemon committing meanwhile would otherwise look like a table
// ahead of its state.
std::vector<TableFacts> stable_facts(const PipelineConfig& cfg, const NamedStores& tables,
                                     EpochMeta& meta, bool& fresh) {
  std::vector<TableFacts> facts;
  for (int attempt = 0; attempt < 10; ++attempt) {
    facts.clear();
    for (const auto& [name, table_store] : tables)
      facts.push_back(facts_of(name, cfg.tables.root + "/" + name,
                               connectors::delta::inspect_log(*table_store)));
    bool fresh_after = true;
    EpochMeta after = read_state(cfg, fresh_after, nullptr);
    if (after.epoch == meta.epoch && after.generation == meta.generation && fresh_after == fresh)
      break;
    meta = after;
    fresh = fresh_after;
  }
  return facts;
}

}  // namespace

VerifyReport verify_pipeline(const PipelineConfig& cfg) {
  VerifyReport r;
  auto root = connectors::objstore::open_store(cfg.tables.root);
  if (!root) {
    r.problems.push_back("tables root " + cfg.tables.root + ": " + root.error().message());
    return r;
  }
  auto present = tables_present(**root);
  if (!present) {
    r.problems.push_back("tables root " + cfg.tables.root +
                         " cannot be listed: " + present.error().message());
    return r;
  }
  std::shared_ptr<ObjectStore> tables_store(std::move(*root));
  bool fresh = true;
  EpochMeta meta = read_state(cfg, fresh, &r.problems);
  std::vector<CheckpointManifest> cps;
  auto cp_store = open_checkpoint_store(member_checkpoints_dir(cfg), cfg.runtime.data_dir);
  auto listed = cp_store ? (*cp_store)->list()
                         : core::Result<std::vector<CheckpointManifest>>(cp_store.error());
  if (listed)
    cps = std::move(*listed);
  else
    r.problems.push_back("checkpoints in " + member_checkpoints_dir(cfg) +
                         " cannot be listed: " + listed.error().message());
  auto tables = check_tables(cfg, tables_store, table_names(*present, meta, cps), *present, r);
  std::vector<TableFacts> facts = stable_facts(cfg, tables, meta, fresh);
  r.epoch = meta.epoch;
  r.generation = meta.generation;
  for (const auto& f : facts)
    for (const auto& [app, version] : f.txn)
      if (auto parsed = parse_app_id(app, cfg.id); parsed && parsed->generation == meta.generation)
        r.task_txns[app][f.name] = version;
  for (const auto& p : compare_state_and_tables(
           StateFacts{&meta, fresh, cfg.runtime.state_dir(), shares_tasks(cfg)}, cfg.id, facts))
    r.problems.push_back(p);
  // Listed before the state was last read.
  if (cp_store) check_checkpoints(cps, cp_store->get(), meta, facts, r);
  if (fresh && r.tables == 0 && cps.empty())
    r.problems.push_back("nothing to verify: no state in " + cfg.runtime.state_dir() +
                         ", no tables under " + cfg.tables.root +
                         " and no checkpoints (is the data directory right?)");
  return r;
}

}  // namespace pinstream::runtime
