// `pinstream redrive`: the dead letters selected by --stream and --reason that the current
// configuration now cleans enter the pipeline once, in one epoch of their own (dedup on the
// key still applies); the others stay dead letters. With the daemon stopped, here; with it
// running (it holds the data directory), through its socket. See stream/redrive.h.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "state/state_store.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/engine.h"
#include "stream/lock_file.h"
#include "stream/query/client.h"
#include "stream/redrive.h"

namespace pinstream::cli {
namespace {

struct RedriveArgs {
  std::string config, stream, reason;
  bool dry_run = false;
};

using Selection = runtime::RedriveSelection;

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
  PS_ASSIGN_OR_RETURN(auto committed, committed_positions(cfg));
  std::map<std::string, std::set<std::string>> marks;
  return runtime::select_dead_letters(
      cfg, a.stream, a.reason, [&](const std::string& partition, const std::string& position) {
        auto m = marks.find(partition);
        if (m == marks.end())
          m = marks.emplace(partition, runtime::redriven_marks(committed, partition)).first;
        return m->second.count(position) > 0;
      });
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

// The daemon owns the data directory: it selects and runs the records itself.
int redrive_by_daemon(const runtime::PipelineConfig& cfg, const RedriveArgs& a) {
  nlohmann::json req = {{"redrive", {{"dry_run", a.dry_run}}}};
  if (!a.stream.empty()) req["redrive"]["stream"] = a.stream;
  if (!a.reason.empty()) req["redrive"]["reason"] = a.reason;
  runtime::QueryClientOptions client;
  client.timeout_ms = 180000;  // the daemon answers once an epoch committed the records
  auto answer = runtime::query_socket(cfg.runtime.socket_path(), req.dump(), client);
  if (!answer) {
    std::fprintf(stderr,
                 "pinstream: the data directory is in use but the daemon's socket %s does not "
                 "answer (%s); retry, or stop the process that holds it\n",
                 cfg.runtime.socket_path().c_str(), answer.error().message().c_str());
    return 1;
  }
  nlohmann::json j = nlohmann::json::parse(*answer, nullptr, false);
  if (!j.is_object() || !j.value("ok", false)) {
    const auto err =
        j.is_object() ? j.value("error", nlohmann::json::object()) : nlohmann::json::object();
    std::fprintf(stderr, "pinstream: redrive: %s\n",
                 err.value("message", std::string("bad answer from the daemon")).c_str());
    return err.value("code", std::string()) == "bad_request" ? 2 : 1;
  }
  Selection sel;
  for (const auto& [stream, c] : j["streams"].items()) {
    sel.selected[stream] = c.value("selected", int64_t{0});
    sel.cleans[stream] = c.value(a.dry_run ? "cleans" : "redriven", int64_t{0});
    sel.still[stream] = c.value("still_failing", int64_t{0});
    if (c.contains("example")) sel.still_reason[stream] = c["example"].get<std::string>();
  }
  print(sel, a.dry_run);
  return 0;
}

int redrive(const RedriveArgs& a) {
  auto cfg = load_config_or_report(a.config);
  if (!cfg) return 2;
  {
    auto lock = runtime::LockFile::acquire(cfg->runtime.data_dir);
    if (!lock && lock.error().code() == core::StatusCode::kAlreadyExists)
      return redrive_by_daemon(*cfg, a);
  }  // released: the engine below takes it again
  auto sel = select(*cfg, a);
  if (!sel) return report_error(sel.error());
  if (a.dry_run || sel->clean.empty()) {
    print(*sel, a.dry_run);
    return 0;
  }
  runtime::PipelineConfig run_cfg = *cfg;
  run_cfg.runtime.epoch_max_records = INT64_MAX;         // one epoch: the marks and counts commit
  run_cfg.runtime.epoch_interval_ms = INT64_MAX / 1000;  // with every record they cover
  runtime::EngineOptions opts;
  opts.until_idle = true;
  auto records = std::make_shared<std::vector<runtime::RedriveRecord>>(std::move(sel->clean));
  opts.source = [records] { return std::make_unique<runtime::RedriveSource>(std::move(*records)); };
  auto engine = runtime::Engine::open(run_cfg, opts);
  if (!engine && engine.error().code() == core::StatusCode::kAlreadyExists)
    return redrive_by_daemon(*cfg, a);  // a daemon started meanwhile
  if (!engine) return report_error(engine.error());
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
