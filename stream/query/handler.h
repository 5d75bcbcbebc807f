// The query protocol's request handler (SPEC section 7), shared by the socket server and
// the offline `pinstream query --config`: one JSON request line in, one JSON answer line out.
// Requests: {"view":NAME,"params":{...}}, {"list":"views"}, {"stats":true}, {"metrics":true},
// and on the daemon's socket {"redrive":{"stream":S,"reason":R,"dry_run":B}} (redrive_merge.h).
// Never throws; every malformed request gets an error answer. A view is answered as an
// `Answer` (query_view); the JSON line is its rendering at the socket's edge.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "state/views.h"
#include "stream/committed_view.h"
#include "stream/core/status.h"
#include "stream/query/answer.h"

namespace pinstream::runtime {

// View answers of one committed epoch, shared by the socket's clients: a view is a pure
// function of the epoch's snapshot and the params, so an answer computed once is served
// again until the next epoch commits. Thread-safe; bounded (cleared when full).
// Keeps the answers of the two newest epochs: the one queries see and the next one,
// being computed by the ViewWarmer before queries switch to it.
class AnswerCache {
 public:
  explicit AnswerCache(size_t max_entries = 4096) : max_entries_(max_entries) {}
  bool get(int64_t epoch, const std::string& key, std::string& answer);
  void put(int64_t epoch, const std::string& key, const std::string& answer);

 private:
  static constexpr size_t kEpochs = 2;
  std::mutex mu_;
  size_t max_entries_;  // per epoch
  std::map<int64_t, std::unordered_map<std::string, std::string>> by_epoch_;
};

struct ViewRequest {
  std::string view;
  std::map<std::string, std::string> params;
};

struct QueryContext {
  std::function<CommittedView()> committed;  // snapshot of the last committed epoch
  const state::Views* views = nullptr;
  int64_t started_at_micros = 0;
  std::function<std::string()> metrics;  // Prometheus text; may be empty
  std::shared_ptr<AnswerCache> cache;    // null: every view is computed
  // For the HTTP API (each may be empty): JSON text of the tables (version, files, bytes,
  // last commit), of the newest `limit` dead letters with counts by reason, and of the
  // checkpoints. Called on the serving thread; answers are cached per epoch.
  std::function<std::string(const CommittedView&)> tables;
  std::function<std::string(size_t limit)> dead_letters;
  std::function<std::string()> checkpoints;
  // The daemon's redrive (handle_redrive) given the request's "redrive" object as JSON text;
  // empty: redrive is refused (offline queries, the HTTP API).
  std::function<std::string(const std::string&)> redrive;
  // A member of a shared pipeline (SPEC section 9; query/peers.h): views are answered by
  // `merged` (this member's partials with its live peers', uncached) and stats list
  // `members` (a JSON array). Null: a process alone, which answers from its own state (no
  // store read per query).
  struct Shared {
    std::function<core::Result<Answer>(const ViewRequest&, const CommittedView&)> merged;
    std::function<std::string()> members;
    // Offline (a stopped member): completes the {"stats":true} line (peers.h complete_stats).
    std::function<std::string(const std::string&)> complete_stats;
  };
  std::shared_ptr<const Shared> shared;
};

// `request`'s answer over the last committed epoch. NotFound for an unknown view (or a
// pipeline without views), InvalidArgument for bad params, Unavailable before the first
// commit; view_error_code() names them for the protocol.
core::Result<Answer> query_view(const ViewRequest& request, const QueryContext& ctx);
// The same answer as its JSON line (answer_json), computed at most once per epoch when the
// context has a cache. Errors as query_view.
core::Result<std::string> view_json(const ViewRequest& request, const QueryContext& ctx);
// `GET /api/partials/<view>`: this member's own tasks' partials of the aggregate `view`
// reads (partials.h), as one JSON line. Errors as query_view.
core::Result<std::string> partials_line(const ViewRequest& request, const QueryContext& ctx);
// {"ok":true,"views":[...]} and the {"stats":true} answer.
std::string views_json(const QueryContext& ctx);
std::string stats_json(const QueryContext& ctx);

// One request line in, one answer line out (no trailing newline).
std::string handle_request(std::string_view line, const QueryContext& ctx);
// Whether `line` is answered by merging live peers' partials (a view request to a member of
// a shared pipeline), which may wait for a peer's deadline: the query server answers it off
// its serving thread (deferred.h).
bool answers_from_peers(std::string_view line, const QueryContext& ctx);

// Prometheus text for the counters of a committed epoch.
std::string metrics_text(const CommittedView& view, int64_t started_at_micros);

}  // namespace pinstream::runtime
