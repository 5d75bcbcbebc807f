// Starts the query socket next to a running engine.
#include "stream/cli/common.h"
#include "stream/engine.h"
#include "stream/query/server.h"

namespace pinstream::cli {
namespace {
struct QueryServerHolder final : Server {
  std::unique_ptr<runtime::QueryServer> server;
};
}  // namespace

core::Result<std::unique_ptr<Server>> start_query_server(const runtime::PipelineConfig& cfg,
                                                         runtime::Engine& engine) {
  runtime::QueryServerOptions opts;
  opts.socket_path = cfg.runtime.socket_path();
  opts.metrics_port = static_cast<int>(cfg.runtime.metrics_port);
  runtime::QueryContext ctx;
  ctx.committed = [&engine] { return engine.committed(); };
  ctx.views = engine.views();
  ctx.started_at_micros = engine.started_at_micros();
  ctx.cache = std::make_shared<runtime::AnswerCache>();
  auto holder = std::make_unique<QueryServerHolder>();
  PS_ASSIGN_OR_RETURN(holder->server, runtime::QueryServer::start(opts, ctx));
  return std::unique_ptr<Server>(std::move(holder));
}

}  // namespace pinstream::cli
