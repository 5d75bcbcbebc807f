// What the peers tests share (peers_test.cc, peers_deadline_test.cc): members' states built
// from the same posts, a peer listener over one, the access to a fixed set of peers.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/aggregates.h"
#include "state/task_prefix.h"
#include "state/views.h"
#include "stream/core/time.h"
#include "stream/query/peers.h"
#include "stream/query/server.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::runtime::peers_test {
using pinstream::testing::TempDir;
using state::test::Post;

inline int64_t now_ms() { return core::system_clock().now_micros() / 1000; }

// Posts with few distinct values, so that groups span tasks and argmax meets ties.
inline std::vector<core::Row> posts(int n) {
  const char* categories[] = {"art", "beauty", "diy", "travel", "finance"};
  const char* countries[] = {"France", "Peru", "Chad", "Laos"};
  const char* names[] = {"ann", "bob", "cy", "dee", "eve", "fay"};
  const char* groups[] = {"18-24", "25-35", "36-50", "+50"};
  std::vector<core::Row> rows;
  for (int i = 0; i < n; ++i) {
    Post p;
    p.ind = i;
    if (i % 11 != 0) p.category = categories[(i * 7) % 5];
    p.poster_name = names[(i * 5) % 6];
    if (i % 13 != 0) p.follower_count = ((i * 37) % 9) * 1000;  // ties on purpose
    p.country = countries[(i * 3) % 4];
    p.timestamp = "2020-0" + std::to_string(1 + i % 3) + "-01 0" + std::to_string(i % 5) + ":1" +
                  std::to_string(i % 6) + ":00";
    p.age = 20 + i % 40;
    p.age_group = groups[i % 4];
    p.post_year = 2018 + i % 5;
    p.join_year = 2015 + i % 6;
    rows.push_back(state::test::row_of(p));
  }
  return rows;
}

// One process's state: the aggregates of `tasks` (rows of ind i go to task i % 4), or of
// one task 0 fed every row (`all`).
struct Member {
  TempDir dir{"ps-peers"};
  std::unique_ptr<state::StateStore> store;
  core::ConfigNode cfg;
  std::vector<std::unique_ptr<state::Aggregates>> aggs;
  std::unique_ptr<state::Views> views;
  std::vector<int32_t> tasks;
  Member(std::vector<int32_t> owned, const std::vector<core::Row>& rows, bool all = false)
      : tasks(std::move(owned)) {
    store = std::move(state::StateStore::open((dir.path() / "db").string())).value();
    cfg = std::move(
              core::load_config_file(
                  (pinstream::testing::source_dir() / "examples/pinterest/pipeline.yaml").string()))
              .value();
    for (int32_t t : tasks)
      aggs.push_back(std::move(state::Aggregates::build(*store, *cfg.find("aggregates"),
                                                        state::test::posts_schema(), "timestamp",
                                                        all ? "" : state::task_prefix(t)))
                         .value());
    for (const auto& r : rows) {
      const int32_t task = static_cast<int32_t>(r[0].i % 4);
      for (size_t i = 0; i < tasks.size(); ++i) {
        if (all || tasks[i] == task) {
          EXPECT_TRUE(aggs[i]->update(r, false).is_ok());
        }
      }
    }
    state::StateStore::WriteBatch b;
    for (auto& a : aggs) a->flush(b);
    EXPECT_TRUE(store->write(b).is_ok());
    views = std::move(state::Views::build(*cfg.find("views"), *aggs[0])).value();
  }
  CommittedView committed() const {
    CommittedView v;
    v.epoch = 7;
    v.reader = store->snapshot();
    v.meta.tasks = TaskMode::kPartitions;
    for (int32_t t : tasks) v.meta.positions["pin/" + std::to_string(t)] = "1";
    return v;
  }
  // What a query server of this member answers from; with `access`, merged answers ask the
  // peers it names.
  QueryContext context(std::shared_ptr<PeerAccess> access = nullptr) const {
    QueryContext ctx;
    ctx.views = views.get();
    ctx.committed = [this] { return committed(); };
    if (access) ctx.shared = shared_queries(*views, std::move(access));
    return ctx;
  }
  // An HTTP-only server answering this member's partials, as a peer listener does.
  std::unique_ptr<QueryServer> serve(const std::string& listen = "127.0.0.1:0",
                                     const std::string& token = "") const {
    QueryServerOptions opts;
    opts.http.listen = listen;
    opts.http.token = token;
    return std::move(QueryServer::start(opts, context())).value();
  }
};

inline std::string rows_text(const std::vector<core::Row>& rows) {
  std::string out;
  for (const auto& r : rows) {
    for (const auto& v : r) out += v.to_string() + "|";
    out += "\n";
  }
  return out;
}

inline PeerAccess access_to(std::vector<PeerInfo> peers, int32_t total = 4) {
  PeerAccess a;
  a.timeout_ms = 2000;
  a.view = [peers, total] {
    PeerView v;
    v.self.instance = "a";
    v.peers = peers;
    v.task_total = total;
    v.stale_ms = 15000;
    return v;
  };
  return a;
}

inline PeerInfo peer(const std::string& address, std::vector<int32_t> tasks, bool stale = false) {
  PeerInfo p;
  p.instance = "b";
  p.address = address;
  p.tasks = std::move(tasks);
  p.updated_ms = now_ms();
  p.stale = stale;
  return p;
}

}  // namespace pinstream::runtime::peers_test
