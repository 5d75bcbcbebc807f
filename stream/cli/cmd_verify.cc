// `pinstream verify --config F`: one line per problem found, then a summary; exit 0 only
// when the state, the checkpoints and every table agree (stream/verify.h).
#include <cstdio>

#include "stream/cli/commands.h"
#include "stream/consistency.h"
#include "stream/verify.h"

namespace pinstream::cli {

void add_verify(CLI::App& app, Exit& exit) {
  add_config_command(
      app, exit, "verify", "Check the state, the checkpoints and every table against each other",
      [](const runtime::PipelineConfig& cfg) {
        runtime::VerifyReport r = runtime::verify_pipeline(cfg);
        for (const auto& p : r.problems) std::printf("%s\n", p.c_str());
        std::printf(
            "%s: %lld tables, %lld data files, %lld checkpoints, state at epoch %lld generation "
            "%lld%s\n",
            r.ok() ? "ok" : "FAILED", static_cast<long long>(r.tables),
            static_cast<long long>(r.files), static_cast<long long>(r.checkpoints),
            static_cast<long long>(r.epoch), static_cast<long long>(r.generation),
            r.ok() ? "" : (" (" + std::to_string(r.problems.size()) + " problems)").c_str());
        // Per task (stream/tasks.h): where each table's txn stands.
        for (const auto& [app_id, tables] : r.task_txns) {
          std::string line = "  txn " + app_id + ":";
          for (const auto& [table, version] : tables)
            line += " " + table + " " + std::to_string(version);
          std::printf("%s\n", line.c_str());
        }
        return r.ok() ? 0 : 1;
      });
}

}  // namespace pinstream::cli
