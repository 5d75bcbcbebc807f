// A member of a shared pipeline (SPEC section 9, `shares_tasks`): its peer listener (an
// HTTP-only query server on a thread of its own, answering `GET /api/partials/<view>` from
// this member's state alone, so that two members merging at once never wait on each other)
// and its record in the checkpoint store (stream/peer_registry.h).
// The listener binds runtime.http's host (127.0.0.1 when unset) on a port of the kernel's
// choice, or $PINSTREAM_PEER_LISTEN (host:port, for firewalls), and advertises that host
// (the host name for a wildcard address) and the bound port. Off loopback it requires the
// HTTP token (runtime.http.token), which peer requests carry.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>

#include "connectors/kafka/kafka_settings.h"
#include "stream/checkpoint_store.h"
#include "stream/cli/common.h"
#include "stream/engine.h"
#include "stream/peer_registry.h"
#include "stream/query/http.h"
#include "stream/query/server.h"
#include "stream/task_guard.h"

namespace pinstream::cli {

core::Result<std::unique_ptr<MemberPeers>> start_member_peers(const runtime::PipelineConfig& cfg,
                                                              runtime::Engine& engine) {
  auto out = std::make_unique<MemberPeers>();
  std::string listen = "127.0.0.1:0";
  if (!cfg.runtime.http_listen.empty()) {
    std::string host;
    int port = 0;
    PS_RETURN_IF_ERROR(runtime::http::split_listen_address(cfg.runtime.http_listen, host, port));
    listen = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":0";
  }
  if (const char* env = std::getenv("PINSTREAM_PEER_LISTEN"); env && *env) listen = env;
  std::string host;
  int port = 0;
  PS_RETURN_IF_ERROR(runtime::http::split_listen_address(listen, host, port));
  runtime::QueryServerOptions opts;
  opts.http.listen = listen;
  opts.http.token = cfg.runtime.http_token;
  runtime::QueryContext ctx;
  ctx.views = engine.views();
  ctx.started_at_micros = engine.started_at_micros();
  ctx.committed = [&engine] { return engine.committed(); };
  ctx.cache = std::make_shared<runtime::AnswerCache>();
  PS_ASSIGN_OR_RETURN(out->listener, runtime::QueryServer::start(opts, ctx));
  PS_ASSIGN_OR_RETURN(out->store, runtime::open_checkpoint_store(cfg.runtime.checkpoints_dir(),
                                                                 cfg.runtime.data_dir));
  runtime::PeerInfo self;
  self.instance = runtime::member_instance(cfg);
  self.host = connectors::kafka::host_name();
  self.pid = ::getpid();
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::";
  std::string advertised = wildcard ? self.host : host;
  if (advertised.find(':') != std::string::npos) advertised = "[" + advertised + "]";
  runtime::PeerRegistryOptions registry_opts;
  registry_opts.stale_ms = cfg.runtime.peer_stale_ms;
  registry_opts.held = [&engine] { return engine.held_tasks(); };
  self.address = advertised + ":" + std::to_string(out->listener->http_port());
  PS_ASSIGN_OR_RETURN(
      out->registry,
      runtime::PeerRegistry::start(
          out->store->objects(), self, [&engine] { return engine.committed(); },
          [&engine] { return engine.committed().metrics.task_total; }, registry_opts));
  out->access = std::make_shared<runtime::PeerAccess>();
  runtime::PeerRegistry* registry = out->registry.get();
  out->access->view = [registry] { return registry->view(); };
  out->access->token = cfg.runtime.http_token;
  out->access->clients = std::make_shared<runtime::PeerClients>();
  return out;
}

}  // namespace pinstream::cli
