// `pinstream vacuum --config F [--table T] [--retain DURATION] [--dry-run]`: deletes the data
// files no version within the retention references (connectors/delta/vacuum.h), in every
// table under the tables root or in T. Checkpoints older than the retention are pruned
// first (replay from them would need deleted files); the files of the kept ones stay.
// Safe beside a running daemon: it only deletes files no version within the retention
// names, and never an orphan younger than an hour (an epoch's files before its commit).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"
#include "connectors/delta/vacuum.h"
#include "stream/checkpoint_store.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/tables_owner.h"
#include "stream/task_guard.h"

namespace pinstream::cli {
namespace delta = connectors::delta;

namespace {
struct VacuumArgs {
  std::string config, table, retain;
  bool dry_run = false;
};

struct OpenTable {
  std::string name;
  std::unique_ptr<delta::DeltaTable> table;
  int64_t retention_ms = 0;  // the table's own (delta.deletedFileRetentionDuration)
};

// Prunes the checkpoints older than `cutoff_ms` (all but the newer ones) and returns the
// table versions the kept ones record, per table.
core::Result<std::map<std::string, std::set<int64_t>>> prune_old_checkpoints(
    const runtime::PipelineConfig& cfg, int64_t retention_ms, bool dry_run) {
  PS_ASSIGN_OR_RETURN(auto store, runtime::open_checkpoint_store(
                                      runtime::member_checkpoints_dir(cfg), cfg.runtime.data_dir));
  PS_ASSIGN_OR_RETURN(auto all, store->list());  // oldest first
  const int64_t cutoff_ms = delta::now_ms() - retention_ms;
  size_t old = 0;
  while (old < all.size() && all[old].time_micros / 1000 < cutoff_ms) ++old;
  if (old > 0) {
    const std::string next = old < all.size()
                                 ? "replay can start from checkpoint " + all[old].id + " or later"
                                 : "no checkpoint is left until the daemon makes one";
    std::printf("%s %zu checkpoints older than the retention (%s): %s..%s; %s\n",
                dry_run ? "would prune" : "pruning", old,
                delta::format_duration(retention_ms).c_str(), all.front().id.c_str(),
                all[old - 1].id.c_str(), next.c_str());
    if (!dry_run) PS_RETURN_IF_ERROR(store->prune(static_cast<int64_t>(all.size() - old)));
  }
  std::map<std::string, std::set<int64_t>> keep;
  for (size_t i = old; i < all.size(); ++i)
    for (const auto& [name, version] : all[i].table_versions) keep[name].insert(version);
  return keep;
}

core::Result<std::vector<OpenTable>> open_tables(const runtime::PipelineConfig& cfg,
                                                 const std::string& only) {
  PS_ASSIGN_OR_RETURN(auto root, runtime::open_tables_root(cfg.tables.root));
  std::vector<std::string> names{only};
  if (only.empty()) {
    PS_ASSIGN_OR_RETURN(names, delta::list_tables(*root));
  }
  std::vector<OpenTable> out;
  for (const auto& name : names) {
    auto opened = delta::DeltaTable::open_existing(delta::sub_store(root, name),
                                                   cfg.tables.root + "/" + name, name);
    if (!opened && opened.error().code() == core::StatusCode::kNotFound)
      return core::Status::invalid("--table " + name + ": no Delta table of that name under " +
                                   cfg.tables.root);
    PS_ASSIGN_OR_RETURN(auto t, std::move(opened));
    PS_ASSIGN_OR_RETURN(const delta::Snapshot* snap, t->latest_snapshot());
    const int64_t retention = delta::deleted_file_retention_ms(*snap);
    out.push_back({name, std::move(t), retention});
  }
  return out;
}

void print_report(const std::string& name, const delta::VacuumReport& r, bool dry_run) {
  std::printf("%s: %s %lld files (%lld bytes, %lld orphans) unreferenced for %s; %lld newer kept\n",
              name.c_str(), dry_run ? "would delete" : "deleted", static_cast<long long>(r.files),
              static_cast<long long>(r.bytes), static_cast<long long>(r.orphans),
              delta::format_duration(r.retention_ms).c_str(), static_cast<long long>(r.kept));
  for (const auto& p : r.first_paths) std::printf("  %s\n", p.c_str());
  if (r.files > static_cast<int64_t>(r.first_paths.size()))
    std::printf("  ... and %lld more\n",
                static_cast<long long>(r.files - static_cast<int64_t>(r.first_paths.size())));
}

int vacuum(const runtime::PipelineConfig& cfg, const VacuumArgs& a, std::optional<int64_t> retain) {
  auto tables = open_tables(cfg, a.table);
  if (!tables) return report_error(tables.error());
  if (tables->empty()) {
    std::printf("no tables under %s\n", cfg.tables.root.c_str());
    return 0;
  }
  int64_t retention = INT64_MAX;  // the shortest that applies, for the checkpoints
  for (const auto& t : *tables) {
    const int64_t applied = retain.value_or(t.retention_ms);
    retention = std::min(retention, applied);
    if (applied < t.retention_ms)
      std::fprintf(stderr,
                   "warning: --retain %s is below table %s's retention of %s "
                   "(delta.deletedFileRetentionDuration): versions older than %s can no longer "
                   "be read, and replay from checkpoints older than that is impossible\n",
                   a.retain.c_str(), t.name.c_str(), delta::format_duration(t.retention_ms).c_str(),
                   a.retain.c_str());
  }
  auto keep = prune_old_checkpoints(cfg, retention, a.dry_run);
  if (!keep) return report_error(keep.error());
  int rc = 0;
  for (auto& t : *tables) {
    delta::VacuumOptions opts;
    opts.retention_ms = retain.value_or(-1);
    opts.dry_run = a.dry_run;
    opts.keep_versions = (*keep)[t.name];
    auto r = delta::vacuum_table(*t.table, opts);
    if (!r) {
      rc = std::max(rc, report_error(r.error()));
      continue;
    }
    print_report(t.name, *r, a.dry_run);
  }
  return rc;
}
}  // namespace

void add_vacuum(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand(
      "vacuum",
      "Delete data files no table version within the retention references (SPEC section 5)");
  auto a = std::make_shared<VacuumArgs>();
  cmd->add_option("--config", a->config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--table", a->table, "Only this table (its name under the tables root)");
  cmd->add_option("--retain", a->retain,
                  "Retention such as 168h, 7d or 0h (default: each table's "
                  "delta.deletedFileRetentionDuration, else 7 days)");
  cmd->add_flag("--dry-run", a->dry_run, "List what would be deleted; delete nothing");
  cmd->callback([&exit, a] {
    std::optional<int64_t> retain;
    if (!a->retain.empty()) {
      retain = delta::parse_duration_ms(a->retain);
      if (!retain) {
        std::fprintf(stderr,
                     "pinstream vacuum: --retain '%s' is not a duration: give a whole number "
                     "and a unit (s, m, h, d), such as 168h, 7d or 0h\n",
                     a->retain.c_str());
        exit.code = 2;
        return;
      }
    }
    auto cfg = load_config_or_report(a->config);
    exit.code = cfg ? vacuum(*cfg, *a, retain) : 2;
  });
}

}  // namespace pinstream::cli
