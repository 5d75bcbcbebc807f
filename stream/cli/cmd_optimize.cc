// `pinstream optimize --config F [--table T]`: compacts the small files of every table under
// the tables root (or of T) into files of the target size (connectors/delta/optimize.h).
// Safe beside a running daemon: its appends never conflict, and a file another commit
// removed meanwhile makes that partition's round retry or be given up.
#include <cstdio>

#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/tables_owner.h"

namespace pinstream::cli {
namespace delta = connectors::delta;

namespace {
int optimize(const runtime::PipelineConfig& cfg, const std::string& only) {
  auto root = runtime::open_tables_root(cfg.tables.root);
  if (!root) return report_error(root.error());
  std::vector<std::string> names{only};
  if (only.empty()) {
    auto listed = delta::list_tables(**root);
    if (!listed) return report_error(listed.error());
    names = *listed;
  }
  delta::OptimizeOptions opts;
  opts.min_files = cfg.tables.upkeep.min_files;
  opts.target_file_bytes = cfg.tables.upkeep.target_file_bytes;
  int rc = 0;
  for (const auto& name : names) {
    auto t = delta::DeltaTable::open_existing(delta::sub_store(*root, name),
                                              cfg.tables.root + "/" + name, name);
    if (!t) {
      rc = std::max(rc, report_error(t.error()));
      continue;
    }
    auto r = delta::optimize_table(**t, opts);
    if (!r) {
      rc = std::max(rc, report_error(r.error()));
      continue;
    }
    std::printf("%s: %lld files (%lld bytes) compacted into %lld (%lld bytes) in %lld commits%s\n",
                name.c_str(), static_cast<long long>(r->removed_files),
                static_cast<long long>(r->removed_bytes), static_cast<long long>(r->added_files),
                static_cast<long long>(r->added_bytes), static_cast<long long>(r->commits),
                r->conflicts ? (", " + std::to_string(r->conflicts) + " conflicts").c_str() : "");
  }
  return rc;
}
}  // namespace

void add_optimize(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("optimize", "Compact each table's small files (SPEC section 5)");
  auto config = std::make_shared<std::string>();
  auto table = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--table", *table, "Only this table (its name under the tables root)");
  cmd->callback([&exit, config, table] {
    auto cfg = load_config_or_report(*config);
    exit.code = cfg ? optimize(*cfg, *table) : 2;
  });
}

}  // namespace pinstream::cli
