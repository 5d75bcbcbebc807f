// Merged answers of a shared pipeline (peers.h): this member's shares read from its state,
// each live peer's fetched at once (all but the first on a thread of its own), each task
// taken once.
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <thread>

#include "connectors/http/http_client.h"
#include "state/task_aggregates.h"
#include "stream/query/partials.h"
#include "stream/query/peers.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

// '%XX' for every byte outside the unreserved set: a view name in a URL path.
std::string url_escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Starts the reason of a peer that did not answer in time (missing_reason tells it apart).
constexpr std::string_view kMissedDeadline = "no answer within ";

struct Fetched {
  core::Result<std::shared_ptr<const TaskPartials>> partials =
      core::Status::unavailable("not asked");
};

}  // namespace

struct PeerClients::Pool {
  std::mutex mu;
  std::multimap<std::string, std::unique_ptr<connectors::http::Client>> idle;  // by address
  int64_t own_epoch = -1;
  std::map<std::string, std::shared_ptr<const TaskPartials>> own;  // by view, of own_epoch
  // The shares last fetched, by "<address>/<pid>/<view>".
  std::map<std::string, std::shared_ptr<const TaskPartials>> peers;
};
PeerClients::PeerClients() : pool(std::make_unique<Pool>()) {}
PeerClients::~PeerClients() = default;

namespace {

// A client for `address`: an idle one from the pool, else a new one; given back by the
// caller after a successful exchange (a failed one may have left its connection broken).
std::unique_ptr<connectors::http::Client> take_client(const PeerAccess& access,
                                                      const std::string& address) {
  if (access.clients) {
    std::lock_guard<std::mutex> lock(access.clients->pool->mu);
    auto it = access.clients->pool->idle.find(address);
    if (it != access.clients->pool->idle.end()) {
      auto c = std::move(it->second);
      access.clients->pool->idle.erase(it);
      return c;
    }
  }
  return std::make_unique<connectors::http::Client>();
}

void give_back(const PeerAccess& access, const std::string& address,
               std::unique_ptr<connectors::http::Client> c) {
  if (!access.clients) return;
  std::lock_guard<std::mutex> lock(access.clients->pool->mu);
  if (access.clients->pool->idle.count(address) < 16)
    access.clients->pool->idle.emplace(address, std::move(c));
}

// This member's shares of `view` at `v`'s epoch: read once per epoch (they change only
// with a commit), from the pool when it holds them.
core::Result<std::shared_ptr<const TaskPartials>> own_partials(
    const state::Views& views, const std::string& view,
    const std::map<std::string, std::string>& params, const CommittedView& v,
    const PeerAccess& access) {
  if (access.clients) {
    std::lock_guard<std::mutex> lock(access.clients->pool->mu);
    auto& pool = *access.clients->pool;
    auto it = pool.own.find(view);
    if (pool.own_epoch == v.epoch && it != pool.own.end()) return it->second;
  }
  PS_ASSIGN_OR_RETURN(TaskPartials p, read_partials(views, view, params, v, v.meta.state_tasks()));
  auto shared = std::make_shared<const TaskPartials>(std::move(p));
  if (access.clients) {
    std::lock_guard<std::mutex> lock(access.clients->pool->mu);
    auto& pool = *access.clients->pool;
    if (pool.own_epoch != v.epoch) pool.own.clear(), pool.own_epoch = v.epoch;
    pool.own[view] = shared;
  }
  return shared;
}

using Shared = std::shared_ptr<const TaskPartials>;

// A peer's shares of `view`: asked with the epoch of the shares last fetched from that
// process (If-None-Match), which it answers 304 while its committed epoch is the same.
core::Result<Shared> fetch(const PeerInfo& peer, const std::string& view,
                           const state::AggregateSpec& spec, const PeerAccess& access) {
  const std::string key = peer.address + "/" + std::to_string(peer.pid) + "/" + view;
  Shared last;
  if (access.clients) {
    std::lock_guard<std::mutex> lock(access.clients->pool->mu);
    auto it = access.clients->pool->peers.find(key);
    if (it != access.clients->pool->peers.end()) last = it->second;
  }
  auto client = take_client(access, peer.address);
  connectors::http::Request req;
  req.url = "http://" + peer.address + "/api/partials/" + url_escape(view);
  if (!access.token.empty()) req.headers.push_back("Authorization: Bearer " + access.token);
  if (last) req.headers.push_back("If-None-Match: \"" + std::to_string(last->epoch) + "\"");
  req.timeout_ms = access.timeout_ms;
  req.connect_timeout_ms = access.timeout_ms;
  connectors::http::Response resp;
  const auto started = std::chrono::steady_clock::now();
  if (core::Status sent = client->send(req, resp); !sent.is_ok()) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    // Hung or overloaded: the merge goes on without it. (curl's own clock may end the
    // transfer a few ms before ours says the deadline passed.)
    if (waited >= access.timeout_ms - std::min<int64_t>(access.timeout_ms / 10, 100))
      return core::Status::unavailable(std::string(kMissedDeadline) +
                                       std::to_string(access.timeout_ms) + " ms");
    return sent;
  }
  give_back(access, peer.address, std::move(client));
  if (resp.status == 304 && last) return last;
  if (resp.status != 200)
    return core::Status::unavailable("HTTP " + std::to_string(resp.status) + ": " +
                                     resp.body.substr(0, 200));
  PS_ASSIGN_OR_RETURN(TaskPartials p, parse_partials(resp.body, spec));
  auto shared = std::make_shared<const TaskPartials>(std::move(p));
  if (access.clients) {
    std::lock_guard<std::mutex> lock(access.clients->pool->mu);
    auto& peers = access.clients->pool->peers;
    if (peers.size() >= 4096) peers.clear();  // bound: views x peer processes seen
    peers[key] = shared;
  }
  return shared;
}

// Why no member answered for `task`.
std::string missing_reason(int32_t task, const PeerView& pv,
                           const std::map<std::string, std::string>& failed) {
  for (const auto& p : pv.peers) {
    if (std::find(p.tasks.begin(), p.tasks.end(), task) == p.tasks.end()) continue;
    if (p.stale)
      return "member " + p.instance + " holds it but has not updated its record for over " +
             std::to_string(pv.stale_ms / 1000) + " s (stopped or unreachable)";
    auto f = failed.find(p.instance);
    if (f != failed.end() && f->second.rfind(kMissedDeadline, 0) == 0)
      return "member " + p.instance + " at " + p.address + " missed the query's deadline (" +
             f->second + ")";
    if (f != failed.end())
      return "member " + p.instance + " at " + p.address + " unreachable: " + f->second;
    return "member " + p.instance + " no longer serves it (a rebalance is under way)";
  }
  return "no member serves it (unassigned, or held during a rebalance)";
}

void fill_coverage(const PeerView& pv, const std::set<int32_t>& covered,
                   const std::map<std::string, std::string>& failed, TasksCovered& out) {
  const int32_t total = pipeline_task_total(pv, covered);
  out.covered = static_cast<int64_t>(covered.size());
  out.total = std::max<int64_t>(total, out.covered);
  for (int32_t t = 0; t < total; ++t)
    if (!covered.count(t)) out.missing.emplace_back(t, missing_reason(t, pv, failed));
}

}  // namespace

std::vector<const PeerInfo*> live_peers(const PeerView& pv) {
  std::vector<const PeerInfo*> out;
  for (const auto& p : pv.peers)
    if (!p.stale && !p.address.empty()) out.push_back(&p);
  std::stable_sort(out.begin(), out.end(), [](const PeerInfo* a, const PeerInfo* b) {
    return a->updated_ms > b->updated_ms;
  });
  return out;
}

int32_t pipeline_task_total(const PeerView& pv, const std::set<int32_t>& known_here) {
  std::set<int32_t> known = known_here;
  for (const auto& p : pv.peers) known.insert(p.tasks.begin(), p.tasks.end());
  // The largest count any member knows (the topics' partition count), at least one past
  // every task seen: a task nobody serves now still counts as missing.
  int32_t total = pv.task_total;
  for (const auto& p : pv.peers) total = std::max(total, p.task_total);
  if (!known.empty()) total = std::max(total, *known.rbegin() + 1);
  return total;
}

core::Result<Answer> merged_answer(const state::Views& views, const std::string& view,
                                   const std::map<std::string, std::string>& params,
                                   const CommittedView& v, const PeerAccess& access) {
  PS_ASSIGN_OR_RETURN(const state::AggregateSpec* spec, views.source_of(view, params));
  const PeerView pv = access.view();
  const std::vector<const PeerInfo*> peers = live_peers(pv);
  std::vector<Fetched> fetched(peers.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < peers.size(); ++i)
    threads.emplace_back([&, i] { fetched[i].partials = fetch(*peers[i], view, *spec, access); });
  // Meanwhile this member's own shares (kept per epoch: mostly at once), then the first
  // peer's on this thread: one thread fewer to start per answer.
  auto own = own_partials(views, view, params, v, access);
  if (!peers.empty()) fetched[0].partials = fetch(*peers[0], view, *spec, access);
  for (auto& t : threads) t.join();
  PS_RETURN_IF_ERROR(own.status());
  std::map<std::string, state::GroupPartial> merged;
  std::set<int32_t> covered;
  auto take = [&](const TaskPartials& p) {
    for (const auto& [task, groups] : p.tasks) {
      if (!covered.insert(task).second) continue;
      for (const auto& [suffix, g] : groups) state::merge_group(*spec, merged[suffix], g);
    }
  };
  if (!access.peers_first) take(**own);
  std::map<std::string, std::string> failed;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!fetched[i].partials) {
      // A peer whose configuration differs is an error, never a partial answer.
      if (fetched[i].partials.error().code() == core::StatusCode::kInvalidArgument)
        return core::Status::internal(fetched[i].partials.error().message());
      failed[peers[i]->instance] = fetched[i].partials.error().message();
      continue;
    }
    take(**fetched[i].partials);
  }
  if (access.peers_first) take(**own);
  PS_ASSIGN_OR_RETURN(state::ViewResult result, views.query_merged(view, params, merged));
  Answer a;
  a.epoch = v.epoch;
  a.columns = std::move(result.columns);
  a.rows = std::move(result.rows);
  fill_coverage(pv, covered, failed, a.tasks);
  return a;
}

namespace {

// `p`'s held tasks, but those another live member serves (held, then revoked and taken
// there: the source does not tell the hand-off of a revoke).
json held_of(const PeerInfo& p, const PeerView& pv) {
  auto serves = [&p](const PeerInfo& o, int32_t task) {
    return &o != &p && !o.stale && std::count(o.tasks.begin(), o.tasks.end(), task) > 0;
  };
  json out = json::array();
  for (const auto& [task, reason] : p.held) {
    bool elsewhere = serves(pv.self, task);
    for (const auto& o : pv.peers) elsewhere = elsewhere || serves(o, task);
    if (!elsewhere) out.push_back({{"task", task}, {"reason", reason}});
  }
  return out;
}

}  // namespace

std::string members_json(const PeerView& pv) {
  json members = json::array();
  auto add = [&](const PeerInfo& p, bool self) {
    members.push_back({{"instance", p.instance},
                       {"host", p.host},
                       {"pid", p.pid},
                       {"address", p.address},
                       {"tasks", p.tasks},
                       {"held", held_of(p, pv)},
                       {"epoch", p.epoch},
                       {"updated_ms", p.updated_ms},
                       {"self", self},
                       {"stale", p.stale}});
  };
  add(pv.self, true);
  for (const auto& p : pv.peers) add(p, false);
  return members.dump();
}

std::shared_ptr<const QueryContext::Shared> shared_queries(
    const state::Views& views, std::shared_ptr<const PeerAccess> access) {
  auto out = std::make_shared<QueryContext::Shared>();
  out->merged = [&views, access](const ViewRequest& r, const CommittedView& v) {
    return merged_answer(views, r.view, r.params, v, *access);
  };
  out->members = [access] { return members_json(access->view()); };
  return out;
}

}  // namespace pinstream::runtime
