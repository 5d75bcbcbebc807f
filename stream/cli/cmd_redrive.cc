// `pinstream redrive`: the dead letters selected by --stream and --reason that the current
// configuration now cleans enter the pipeline once, in one epoch of their own (dedup on the
// key still applies); the others stay dead letters. With the daemon stopped (it owns the
// data directory). See stream/redrive.h for how each record is taken once.
#include <cstdio>
#include <map>

#include "state/state_store.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/core/base64.h"
#include "stream/engine.h"
#include "stream/redrive.h"
#include "transforms/cleaner.h"

namespace pinstream::cli {
namespace {

struct RedriveArgs {
  std::string config, stream, reason;
  bool dry_run = false;
};

struct Selection {
  std::vector<runtime::RedriveRecord> clean;               // records that now clean
  std::map<std::string, int64_t> selected, cleans, still;  // by stream
  std::map<std::string, std::string> still_reason;         // an example, by stream
};

// The positions committed so far (read-only: the marks of earlier redrives).
core::Result<core::Positions> committed_positions(const runtime::PipelineConfig& cfg) {
  state::StateStore::Options so;
  so.read_only = true;
  auto store = state::StateStore::open(cfg.runtime.state_dir(), so);
  if (!store) return core::Positions{};  // nothing committed yet
  PS_ASSIGN_OR_RETURN(auto raw, (*store)->snapshot()->get(runtime::kEpochMetaKey));
  if (!raw) return core::Positions{};
  PS_ASSIGN_OR_RETURN(auto meta, runtime::EpochMeta::from_json(*raw));
  return meta.positions;
}

core::Result<Selection> select(const runtime::PipelineConfig& cfg, const RedriveArgs& a) {
  PS_ASSIGN_OR_RETURN(auto rows, runtime::read_dead_letters(cfg));
  PS_ASSIGN_OR_RETURN(auto committed, committed_positions(cfg));
  std::map<std::string, uint32_t> index;
  std::vector<std::unique_ptr<transforms::Cleaner>> cleaners;
  for (size_t i = 0; i < cfg.streams.size(); ++i) {
    const auto& sc = cfg.streams[i];
    index[sc.name] = static_cast<uint32_t>(i);
    PS_ASSIGN_OR_RETURN(
        auto c, transforms::Cleaner::build(*sc.input, sc.steps, sc.key,
                                           static_cast<size_t>(cfg.runtime.max_record_bytes)));
    cleaners.push_back(std::move(c));
  }
  if (!a.stream.empty() && !index.count(a.stream))
    return core::Status::invalid("--stream " + a.stream + " is not a stream of " + cfg.file);
  Selection sel;
  std::map<std::string, std::set<std::string>> marks;
  core::Row row;
  for (auto& r : rows) {
    if ((!a.stream.empty() && r.stream != a.stream) || !index.count(r.stream)) continue;
    if (!a.reason.empty() && r.reason.find(a.reason) == std::string::npos) continue;
    auto m = marks.find(r.partition);
    if (m == marks.end())
      m = marks.emplace(r.partition, runtime::redriven_marks(committed, r.partition)).first;
    if (m->second.count(r.position)) continue;
    ++sel.selected[r.stream];
    std::string bytes;
    // Only whole records can be processed again: a cut one kept its first bytes only.
    const bool cut =
        r.reason.find("(raw: first ") != std::string::npos || r.reason.rfind("truncated", 0) == 0;
    const bool decoded =
        r.encoding == "base64" ? core::base64_decode(r.raw, bytes) : (bytes = r.raw, true);
    core::Status st = cut || !decoded ? core::Status::invalid(r.reason)
                                      : cleaners[index[r.stream]]->clean(bytes, row);
    if (!st.is_ok()) {
      ++sel.still[r.stream];
      sel.still_reason.try_emplace(r.stream, st.message());
      continue;
    }
    ++sel.cleans[r.stream];
    sel.clean.push_back({index[r.stream], r.stream, r.partition, r.position, std::move(bytes)});
  }
  return sel;
}

void print(const Selection& sel, bool dry_run) {
  if (sel.selected.empty()) std::printf("no dead letters to redrive\n");
  for (const auto& [stream, n] : sel.selected) {
    auto count = [&](const std::map<std::string, int64_t>& m) {
      return m.count(stream) ? m.at(stream) : 0;
    };
    std::printf("%s: %lld selected, %lld %s, %lld still failing%s%s\n", stream.c_str(),
                static_cast<long long>(n), static_cast<long long>(count(sel.cleans)),
                dry_run ? "would be redriven" : "redriven",
                static_cast<long long>(count(sel.still)),
                sel.still_reason.count(stream) ? " (e.g. " : "",
                sel.still_reason.count(stream) ? (sel.still_reason.at(stream) + ")").c_str() : "");
  }
}

int redrive(const RedriveArgs& a) {
  auto cfg = load_config_or_report(a.config);
  if (!cfg) return 2;
  auto sel = select(*cfg, a);
  if (!sel) return report_error(sel.error());
  if (a.dry_run || sel->clean.empty()) {
    print(*sel, a.dry_run);
    return 0;
  }
  runtime::PipelineConfig run_cfg = *cfg;
  run_cfg.runtime.epoch_max_records = INT64_MAX;         // one epoch: the marks and counts commit
  run_cfg.runtime.epoch_interval_ms = INT64_MAX / 1000;  // with every record they cover
  auto moved = std::make_shared<std::map<std::string, int64_t>>();
  runtime::EngineOptions opts;
  opts.until_idle = true;
  auto records = std::make_shared<std::vector<runtime::RedriveRecord>>(std::move(sel->clean));
  opts.source = [records, moved] {
    return std::make_unique<runtime::RedriveSource>(std::move(*records), moved);
  };
  opts.moved_from_dead = moved;
  auto engine = runtime::Engine::open(run_cfg, opts);
  if (!engine) {
    if (engine.error().code() == core::StatusCode::kAlreadyExists)
      std::fprintf(stderr,
                   "pinstream: stop the daemon first (systemctl stop pinstream); redrive needs "
                   "the data directory to itself\n");
    return report_error(engine.error());
  }
  core::Status st = (*engine)->run();
  if (!st.is_ok()) return report_error(st);
  print(*sel, false);
  return 0;
}

}  // namespace

void add_redrive(CLI::App& app, Exit& exit) {
  auto* cmd =
      app.add_subcommand("redrive", "Process dead letters again through the current configuration");
  static RedriveArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (YAML)")->required();
  cmd->add_option("--stream", a.stream, "Only this stream's dead letters");
  cmd->add_option("--reason", a.reason, "Only dead letters whose reason contains this text");
  cmd->add_flag("--dry-run", a.dry_run, "Say what would be redriven; change nothing");
  cmd->callback([&exit] { exit.code = redrive(a); });
}

}  // namespace pinstream::cli
