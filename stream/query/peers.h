// The members of a shared pipeline as queries see them (SPEC section 9): which peers exist
// (PeerRegistry, stream/peer_registry.h, keeps `peers/<instance>.json` in the checkpoint
// store), and the merge of a view's partials over this member and every live peer, fetched
// in parallel over their HTTP API (`GET /api/partials/<view>`, partials.h), each bounded by
// a short timeout. A task is taken from one member only (this one first, then the most
// recently updated peer); the tasks no member answered for are named with the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "state/views.h"
#include "stream/committed_view.h"
#include "stream/core/status.h"
#include "stream/query/answer.h"
#include "stream/query/handler.h"

namespace pinstream::runtime {

// One member's record (`peers/<instance>.json`).
struct PeerInfo {
  std::string instance;  // the Kafka group.instance.id (or its default)
  std::string host;
  int64_t pid = 0;
  std::string address;  // host:port of its peer HTTP listener
  std::vector<int32_t> tasks;
  // Tasks assigned to it but held paused by task hand-off (TaskTaker::held), with the reason.
  std::map<int32_t, std::string> held;
  int64_t epoch = 0;
  int32_t task_total = 0;  // the pipeline's task count as this member knows it (0: unknown)
  int64_t updated_ms = 0;  // wall clock, ms since the Unix epoch
  bool stale = false;      // not updated within the stale time: ignored
};

// What the registry knows now.
struct PeerView {
  PeerInfo self;
  std::vector<PeerInfo> peers;  // the others, live and stale
  int32_t task_total = 0;       // the topics' partition count; 0: not known
  int64_t stale_ms = 0;
};

// What merged answers keep between requests: kept-alive HTTP clients to the peers (one
// request at a time each) and this member's own partials of the epoch it last answered.
// Thread-safe.
class PeerClients {
 public:
  PeerClients();
  ~PeerClients();
  struct Pool;
  std::unique_ptr<Pool> pool;
};

struct PeerAccess {
  std::function<PeerView()> view;
  std::shared_ptr<PeerClients> clients;  // null: a new connection and read per request
  std::string token;                     // sent as Authorization: Bearer (empty: none)
  long timeout_ms = 1000;                // per peer request
  // A stopped member answering offline: a task a live peer serves is taken from the peer
  // (its state is newer than the stopped member's), its own state only for the others.
  bool peers_first = false;
};

// The answer of `view` over `v` (this member's tasks) merged with every live peer's
// shares; `tasks` says covered / total and names the tasks missing and why. Errors as
// query_view.
core::Result<Answer> merged_answer(const state::Views& views, const std::string& view,
                                   const std::map<std::string, std::string>& params,
                                   const CommittedView& v, const PeerAccess& access);

// The {"stats":true} answer's "members": this member and every peer, with tasks and epochs.
std::string members_json(const PeerView& view);

// The peers a query asks, most recently updated first (the one whose share of a task is
// taken when two members hold it, e.g. during a hand-off): the live ones with an address.
std::vector<const PeerInfo*> live_peers(const PeerView& view);
// The pipeline's task count as the members know it: the largest count a record gives, at
// least one past every task of `known` and of every member's record.
int32_t pipeline_task_total(const PeerView& view, const std::set<int32_t>& known);

// A task's counters as its newest task checkpoint holds them.
struct TaskCountersAt {
  int64_t epoch = 0;
  std::map<std::string, StreamCounters> counters;  // by stream
};
// The newest checkpoint's counters of `task`; nullopt when it has none.
using CheckpointCounters = std::function<core::Result<std::optional<TaskCountersAt>>(int32_t task)>;

// A stopped member's {"stats":true} answer (`stats_line`, its own committed state) completed
// for the whole pipeline: the per-task counters ("tasks") of every task a live peer serves
// come from that peer (its GET /api/stats: newer than this state), the others from this
// state, then from the task's newest checkpoint (a task handed over at the stop);
// "task_sources" names where each task's counters come from and "tasks_missing" each task
// still without counters and why: never a task silently read as 0.
std::string complete_stats(const std::string& stats_line, const PeerView& view,
                           const PeerAccess& access, const CheckpointCounters& from_checkpoint);

// The query context's answers of a shared pipeline's member (QueryContext::shared): views
// merged through `access` over `views`, members from `access.view()`.
std::shared_ptr<const QueryContext::Shared> shared_queries(
    const state::Views& views, std::shared_ptr<const PeerAccess> access);

}  // namespace pinstream::runtime
