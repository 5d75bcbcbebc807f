// Starts the query socket (and the HTTP server when runtime.http.listen is set) next to a
// running engine.
#include <mutex>

#include "stream/checkpoint_store.h"
#include "stream/cli/common.h"
#include "stream/engine.h"
#include "stream/peer_registry.h"
#include "stream/query/http_facts.h"
#include "stream/query/server.h"
#include "stream/query/view_warmer.h"
#include "stream/redrive_merge.h"
#include "stream/task_guard.h"

namespace pinstream::cli {
namespace {
struct QueryServerHolder final : Server {
  std::unique_ptr<runtime::ViewWarmer> warmer;  // declared first: outlives the server
  std::unique_ptr<MemberPeers> peers;           // a shared pipeline's member: outlives it too
  std::unique_ptr<runtime::QueryServer> server;
};

int64_t dead_total(const runtime::CommittedView& v) {
  int64_t n = 0;
  for (const auto& [name, c] : v.meta.counters) n += c.dead;
  return n;
}

// The dead letters' reasons for /metrics, read from the table once per epoch.
class ReasonMetrics {
 public:
  explicit ReasonMetrics(std::string dead_dir) : dir_(std::move(dead_dir)) {}
  std::string text(const runtime::CommittedView& v) {
    std::lock_guard<std::mutex> lock(mu_);
    if (v.epoch != epoch_) {
      text_ =
          runtime::dead_letter_reason_metrics(runtime::dead_letters_json(dir_, 0, dead_total(v)));
      epoch_ = v.epoch;
    }
    return text_;
  }

 private:
  std::mutex mu_;
  std::string dir_, text_;
  int64_t epoch_ = -1;
};
}  // namespace

core::Result<std::unique_ptr<Server>> start_query_server(const runtime::PipelineConfig& cfg,
                                                         runtime::Engine& engine,
                                                         runtime::RedriveMerge* redrive) {
  runtime::QueryServerOptions opts;
  opts.socket_path = cfg.runtime.socket_path();
  opts.metrics_port = static_cast<int>(cfg.runtime.metrics_port);
  opts.http.listen = cfg.runtime.http_listen;
  opts.http.token = cfg.runtime.http_token;
  auto holder = std::make_unique<QueryServerHolder>();
  runtime::QueryContext ctx;
  ctx.views = engine.views();
  ctx.started_at_micros = engine.started_at_micros();
  ctx.cache = std::make_shared<runtime::AnswerCache>();
  // Queries see an epoch once its default view answers are computed (off the event loop).
  // A shared pipeline's member merges at each request: nothing to compute ahead.
  const bool shared = runtime::shares_tasks(cfg);
  holder->warmer = std::make_unique<runtime::ViewWarmer>([&engine] { return engine.committed(); },
                                                         shared ? nullptr : ctx.views, ctx.cache);
  runtime::ViewWarmer* warmer = holder->warmer.get();
  ctx.committed = [warmer] { return warmer->current(); };
  if (shared && ctx.views) {
    // Views merge every member's partials (SPEC section 9), computed at each request.
    PS_ASSIGN_OR_RETURN(holder->peers, start_member_peers(cfg, engine));
    ctx.shared = runtime::shared_queries(*ctx.views, holder->peers->access);
  }
  std::string root = cfg.tables.root, dead = cfg.tables.root + "/" + cfg.tables.dead_letters;
  std::string checkpoints = runtime::member_checkpoints_dir(cfg);
  ctx.tables = [root](const runtime::CommittedView& v) { return runtime::tables_json(root, v); };
  ctx.dead_letters = [dead, warmer](size_t limit) {
    return runtime::dead_letters_json(dead, limit, dead_total(warmer->current()));
  };
  ctx.checkpoints = [checkpoints] { return runtime::checkpoints_json(checkpoints); };
  auto reasons = std::make_shared<ReasonMetrics>(dead);
  int64_t started = engine.started_at_micros();
  ctx.metrics = [reasons, started, warmer, &engine] {
    runtime::CommittedView v = warmer->current();
    // Live: compaction and vacuum run between commits (and an idle daemon commits none).
    v.metrics.upkeep = engine.committed().metrics.upkeep;
    return runtime::metrics_text(v, started) + reasons->text(v);
  };
  if (redrive)
    ctx.redrive = [cfg, redrive, &engine](const std::string& request) {
      return runtime::handle_redrive(request, cfg, *redrive,
                                     [&engine] { return engine.committed(); });
    };
  PS_ASSIGN_OR_RETURN(holder->server, runtime::QueryServer::start(opts, ctx));
  return std::unique_ptr<Server>(std::move(holder));
}

}  // namespace pinstream::cli
