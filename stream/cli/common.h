// Shared pieces of the subcommands: loading a configuration with the exit-code policy
// (config errors print one line and exit 2), error reporting, and the query server hook.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "stream/core/status.h"
#include "stream/pipeline_config.h"

namespace pinstream::runtime {
class Engine;
}

namespace pinstream::runtime {
class RedriveMerge;
class QueryServer;
class CheckpointStore;
class PeerRegistry;
struct PeerAccess;
}  // namespace pinstream::runtime

namespace pinstream::cli {

// Loads `path`; on failure prints "pinstream: <file:line:col: key ...: message>" and returns
// nullopt (the caller exits 2).
std::optional<runtime::PipelineConfig> load_config_or_report(const std::string& path);

// Prints the error; returns 2 for configuration/usage problems (InvalidArgument,
// AlreadyExists, NotFound), 1 for runtime failures.
int report_error(const core::Status& st);

// Something that stops serving when destroyed.
struct Server {
  virtual ~Server() = default;
};
// A member of a shared pipeline (runtime::shares_tasks): its peer listener, its record in the
// checkpoint store, and the access its queries merge peers through (peers_hook.cc).
// Destroyed in reverse order: the record is removed before the listener stops.
struct MemberPeers {
  std::unique_ptr<runtime::QueryServer> listener;
  std::unique_ptr<runtime::CheckpointStore> store;
  std::unique_ptr<runtime::PeerRegistry> registry;
  std::shared_ptr<runtime::PeerAccess> access;
};
core::Result<std::unique_ptr<MemberPeers>> start_member_peers(const runtime::PipelineConfig& cfg,
                                                              runtime::Engine& engine);
// Starts the query socket for a running engine (SPEC section 7); with `redrive` (the
// daemon's source, see stream/redrive_merge.h) it also serves {"redrive":{..}}.
core::Result<std::unique_ptr<Server>> start_query_server(const runtime::PipelineConfig& cfg,
                                                         runtime::Engine& engine,
                                                         runtime::RedriveMerge* redrive = nullptr);

// The embedded demo (`pinstream run` without --config).
int run_demo(bool until_idle, std::atomic<bool>* stop);

}  // namespace pinstream::cli
