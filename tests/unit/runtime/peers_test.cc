// Queries over the whole pipeline (SPEC section 9): partials sent over the wire between
// members and merged equal one instance fed every row, for every view of the default
// pipeline; a stale or unreachable peer is left out and its tasks named; the registry's
// records in a shared store.
#include "stream/query/peers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "connectors/http/http_client.h"
#include "connectors/objstore/local_store.h"
#include "state/aggregates.h"
#include "state/task_prefix.h"
#include "state/views.h"
#include "stream/core/time.h"
#include "stream/peer_registry.h"
#include "stream/query/partials.h"
#include "stream/query/server.h"
#include "tests/support/test_support.h"
#include "tests/unit/runtime/peers_fixture.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::runtime {
namespace {
using namespace peers_test;  // NOLINT

TEST(PeerMerge, PartialsOverTheWireMergeToWhatOneInstanceFedEveryRowAnswers) {
  const auto rows = posts(400);
  Member a({0, 1}, rows), b({2, 3}, rows), one({0}, rows, true);
  auto server = b.serve();
  PeerAccess access = access_to({peer("127.0.0.1:" + std::to_string(server->http_port()), {2, 3})});
  // Kept-alive connections and this member's partials kept per epoch (asked twice a view).
  access.clients = std::make_shared<PeerClients>();
  ASSERT_GE(a.views->names().size(), 10u);
  for (const auto& name : a.views->names()) {
    for (const std::map<std::string, std::string>& params :
         {std::map<std::string, std::string>{}, {{"n", "2"}}}) {
      auto want = one.views->query(name, params, *one.committed().reader);
      auto got = merged_answer(*a.views, name, params, a.committed(), access);
      if (!want) {  // a param the view does not take: refused alike
        ASSERT_FALSE(got) << name;
        EXPECT_EQ(got.error().code(), want.error().code()) << name;
        continue;
      }
      ASSERT_TRUE(got) << name << ": " << got.error().message();
      EXPECT_FALSE(want->rows.empty()) << name;
      EXPECT_EQ(rows_text(got->rows), rows_text(want->rows)) << name;
      EXPECT_EQ(got->columns, want->columns) << name;
      EXPECT_EQ(got->tasks.covered, 4) << name;
      EXPECT_EQ(got->tasks.total, 4) << name;
      EXPECT_TRUE(got->tasks.missing.empty()) << name;
    }
  }
}

TEST(PeerMerge, PartialsSurviveTheirJsonFormExactly) {
  const auto rows = posts(120);
  Member b({2, 3}, rows);
  for (const auto& name : b.views->names()) {
    auto spec = b.views->source_of(name, {});
    ASSERT_TRUE(spec);
    auto p = read_partials(*b.views, name, {}, b.committed(), b.tasks);
    ASSERT_TRUE(p);
    auto back = parse_partials(partials_json(name, **spec, *p), **spec);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(back->tasks.size(), 2u);
    for (const auto& [t, groups] : p->tasks) {
      ASSERT_EQ(back->tasks[t].size(), groups.size()) << name;
      for (const auto& [suffix, g] : groups) {
        const auto& r = back->tasks[t][suffix];
        EXPECT_EQ(state::encode_group(r.g), state::encode_group(g.g)) << name;
        EXPECT_EQ(r.histogram, g.histogram) << name;
      }
    }
  }
  // Another configuration's aggregate is refused, not merged.
  auto spec = b.views->source_of(b.views->names()[0], {});
  state::AggregateSpec other = **spec;
  other.measure = state::Measure::kSum;
  auto p = read_partials(*b.views, b.views->names()[0], {}, b.committed(), b.tasks);
  auto refused = parse_partials(partials_json(b.views->names()[0], **spec, *p), other);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("same configuration"), std::string::npos);
}

TEST(PeerMerge, APeerAnswers304WhileItsEpochIsTheOneAskedWith) {
  const auto rows = posts(50);
  Member b({2, 3}, rows);
  auto server = b.serve();
  const std::string url = "http://127.0.0.1:" + std::to_string(server->http_port()) +
                          "/api/partials/" + b.views->names()[0];
  connectors::http::Client client;
  connectors::http::Response resp;
  connectors::http::Request req;
  req.url = url;
  ASSERT_TRUE(client.send(req, resp).is_ok());
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_NE(resp.body.find("\"epoch\":7"), std::string::npos) << resp.body;
  req.headers = {"If-None-Match: \"7\""};
  ASSERT_TRUE(client.send(req, resp).is_ok());
  EXPECT_EQ(resp.status, 304);
  req.headers = {"If-None-Match: \"6\""};
  ASSERT_TRUE(client.send(req, resp).is_ok());
  EXPECT_EQ(resp.status, 200);
  req.url = url + "x";  // an unknown view is refused, never 304
  req.headers = {"If-None-Match: \"7\""};
  ASSERT_TRUE(client.send(req, resp).is_ok());
  EXPECT_EQ(resp.status, 404) << resp.body;
}

TEST(PeerMerge, OffLoopbackPeerRequestsCarryTheToken) {
  const auto rows = posts(100);
  Member a({0, 1}, rows), b({2, 3}, rows);
  auto server = b.serve("0.0.0.0:0", "s3cret");  // a wildcard address: the token is required
  const std::string address = "127.0.0.1:" + std::to_string(server->http_port());
  PeerAccess with = access_to({peer(address, {2, 3})});
  with.token = "s3cret";
  auto got = merged_answer(*a.views, a.views->names()[0], {}, a.committed(), with);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->tasks.covered, 4);
  auto refused = merged_answer(*a.views, a.views->names()[0], {}, a.committed(),
                               access_to({peer(address, {2, 3})}));
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->tasks.covered, 2);
  ASSERT_EQ(refused->tasks.missing.size(), 2u);
  EXPECT_NE(refused->tasks.missing[0].second.find("HTTP 401"), std::string::npos)
      << refused->tasks.missing[0].second;
}

TEST(PeerMerge, AStalePeerIsNotAskedAndItsTasksAreNamed) {
  const auto rows = posts(100);
  Member a({0, 1}, rows);
  auto got = merged_answer(*a.views, a.views->names()[0], {}, a.committed(),
                           access_to({peer("127.0.0.1:1", {2, 3}, true)}));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->tasks.covered, 2);
  EXPECT_EQ(got->tasks.total, 4);
  ASSERT_EQ(got->tasks.missing.size(), 2u);
  EXPECT_EQ(got->tasks.missing[0].first, 2);
  EXPECT_EQ(got->tasks.missing[1].first, 3);
  EXPECT_NE(got->tasks.missing[0].second.find("has not updated its record"), std::string::npos)
      << got->tasks.missing[0].second;
  // The answer is this member's own share: what its tasks alone give.
  auto own = a.views->query(a.views->names()[0], {}, *a.committed().reader, {0, 1});
  EXPECT_EQ(rows_text(got->rows), rows_text(own->rows));
}

TEST(PeerMerge, AnUnreachablePeerAndAnUnassignedTaskAreNamed) {
  const auto rows = posts(100);
  Member a({0, 1}, rows);
  const auto started = std::chrono::steady_clock::now();
  auto got = merged_answer(*a.views, a.views->names()[0], {}, a.committed(),
                           access_to({peer("127.0.0.1:1", {2})}, 4));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->tasks.covered, 2);
  EXPECT_EQ(got->tasks.total, 4);
  ASSERT_EQ(got->tasks.missing.size(), 2u);
  EXPECT_NE(got->tasks.missing[0].second.find("unreachable"), std::string::npos)
      << got->tasks.missing[0].second;
  EXPECT_NE(got->tasks.missing[1].second.find("no member serves it"), std::string::npos)
      << got->tasks.missing[1].second;
  const std::string line = answer_json(*got);
  EXPECT_NE(line.find(R"("missing":[{"reason":)"), std::string::npos) << line;
}

TEST(PeerStats, AStoppedMembersStatsTakeEachTaskFromWhereItLivesNowOrNameIt) {
  // Live member b serves task 2 (its listener's stats); c, stale, held task 3.
  EpochMeta b_meta;
  b_meta.epoch = 12;
  b_meta.tasks = TaskMode::kPartitions;
  b_meta.positions["pin/2"] = "1";
  b_meta.task_counters[2]["pin"].read = 5;
  QueryServerOptions opts;
  opts.http.listen = "127.0.0.1:0";
  QueryContext ctx;
  ctx.committed = [&b_meta] {
    CommittedView v;
    v.epoch = b_meta.epoch;
    v.meta = b_meta;
    return v;
  };
  auto server = QueryServer::start(opts, ctx);
  ASSERT_TRUE(server);
  PeerInfo c = peer("127.0.0.1:1", {3}, true);
  c.instance = "c";
  PeerAccess access =
      access_to({peer("127.0.0.1:" + std::to_string((*server)->http_port()), {2}), c}, 5);
  // This stopped member's own state holds task 0 (and a stale share of 2); task 1 was handed
  // over at its stop (a checkpoint); nobody has task 4.
  const std::string own = R"({"ok":true,"epoch":8,"streams":{"pin":{"read":9,"join_expired":1}},)"
                          R"("tasks":{"0":{"pin":{"read":3}},"2":{"pin":{"read":1}}}})";
  auto from_checkpoint = [](int32_t task) -> core::Result<std::optional<TaskCountersAt>> {
    if (task != 1) return std::optional<TaskCountersAt>();
    TaskCountersAt at;
    at.epoch = 9;
    at.counters["pin"].read = 7;
    return std::optional<TaskCountersAt>(at);
  };
  auto j = nlohmann::json::parse(complete_stats(own, access.view(), access, from_checkpoint));
  EXPECT_EQ(j["tasks"]["0"]["pin"]["read"], 3) << j.dump();
  EXPECT_EQ(j["tasks"]["1"]["pin"]["read"], 7) << j.dump();
  EXPECT_EQ(j["tasks"]["2"]["pin"]["read"], 5) << j.dump();  // the live member's, newer
  EXPECT_FALSE(j["tasks"].contains("3")) << j.dump();
  EXPECT_EQ(j["task_sources"]["0"], "this member's committed state (epoch 8)");
  EXPECT_EQ(j["task_sources"]["1"], "task checkpoint of epoch 9");
  EXPECT_EQ(j["task_sources"]["2"], "member b (live, epoch 12)");
  ASSERT_EQ(j["tasks_missing"].size(), 2u) << j.dump();
  EXPECT_EQ(j["tasks_missing"][0]["task"], 3);
  EXPECT_NE(j["tasks_missing"][0]["reason"].get<std::string>().find("member c holds it but"),
            std::string::npos)
      << j.dump();
  EXPECT_EQ(j["tasks_missing"][1]["task"], 4);
  EXPECT_EQ(j["streams"]["pin"]["read"], 15) << j.dump();
  EXPECT_EQ(j["streams"]["pin"]["join_expired"], 1) << j.dump();
  EXPECT_EQ(j["streams_cover"]["tasks"], 3);
  EXPECT_EQ(j["streams_cover"]["total"], 5);
}

TEST(PeerRegistry, MembersSeeEachOtherAndAStopRemovesItsRecord) {
  TempDir dir{"ps-peers-reg"};
  auto store = connectors::objstore::make_local_store(dir.path().string());
  auto view_with = [](std::vector<int32_t> tasks) {
    return [tasks] {
      CommittedView v;
      v.epoch = 3;
      v.reader = nullptr;
      v.meta.tasks = TaskMode::kPartitions;
      for (int32_t t : tasks) v.meta.positions["pin/" + std::to_string(t)] = "1";
      return v;
    };
  };
  PeerRegistryOptions opts;
  opts.heartbeat_ms = 50;
  PeerInfo a, b;
  a.instance = "member-a", a.address = "127.0.0.1:1001";
  b.instance = "member-b", b.address = "127.0.0.1:1002";
  auto ra = PeerRegistry::start(
      *store, a, view_with({0}), [] { return 4; }, opts);
  ASSERT_TRUE(ra);
  {
    auto rb = PeerRegistry::start(
        *store, b, view_with({1}), [] { return 4; }, opts);
    ASSERT_TRUE(rb);
    EXPECT_EQ((*rb)->view().peers.size(), 1u);
    ASSERT_TRUE(pinstream::testing::wait_until([&] { return (*ra)->view().peers.size() == 1; },
                                               std::chrono::seconds(5)));
    const PeerView v = (*ra)->view();
    EXPECT_EQ(v.peers[0].instance, "member-b");
    EXPECT_EQ(v.peers[0].address, "127.0.0.1:1002");
    EXPECT_FALSE(v.peers[0].stale);
    EXPECT_EQ(v.task_total, 4);
  }
  // b stopped cleanly: its record is gone.
  EXPECT_TRUE(pinstream::testing::wait_until([&] { return (*ra)->view().peers.empty(); },
                                             std::chrono::seconds(5)));
  // A record nobody updated for longer than the stale time is reported stale.
  PeerInfo old = b;
  old.instance = "member-old";
  old.updated_ms = now_ms() - 60000;
  ASSERT_TRUE(store->put("peers/member-old.json", peer_record_json(old)).is_ok());
  ASSERT_TRUE(pinstream::testing::wait_until([&] { return (*ra)->view().peers.size() == 1; },
                                             std::chrono::seconds(5)));
  EXPECT_TRUE((*ra)->view().peers[0].stale);
  EXPECT_NE(members_json((*ra)->view()).find("\"stale\":true"), std::string::npos);
}

TEST(PeerRegistry, HeldTasksAreInTheRecordAndInTheMembersUnlessServedElsewhere) {
  TempDir dir{"ps-peers-held"};
  auto store = connectors::objstore::make_local_store(dir.path().string());
  PeerRegistryOptions opts;
  opts.heartbeat_ms = 50;
  std::mutex mu;
  std::map<int32_t, std::string> held = {{1, "behind the tables"}, {2, "behind too"}};
  opts.held = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return held;
  };
  PeerInfo a;
  a.instance = "member-a", a.address = "127.0.0.1:1001";
  auto registry = PeerRegistry::start(
      *store, a, [] { return CommittedView(); }, [] { return 4; }, opts);
  ASSERT_TRUE(registry);
  auto record = [&] { return parse_peer_record(store->get("peers/member-a.json").value()); };
  ASSERT_TRUE(record());
  EXPECT_EQ(record()->held, held);
  // A live peer serves task 2 (held here, then revoked and taken there): only 1 is shown.
  PeerView pv = (*registry)->view();
  pv.peers.push_back(peer("127.0.0.1:1002", {2}));
  auto members = nlohmann::json::parse(members_json(pv));
  EXPECT_EQ(members[0]["held"],
            nlohmann::json::parse(R"([{"task":1,"reason":"behind the tables"}])"))
      << members.dump();
  // Taken at last: the record says so within a heartbeat.
  {
    std::lock_guard<std::mutex> lock(mu);
    held.clear();
  }
  EXPECT_TRUE((*registry)->view().self.held.empty());
  EXPECT_TRUE(pinstream::testing::wait_until([&] { return record() && record()->held.empty(); },
                                             std::chrono::seconds(5)));
}

}  // namespace
}  // namespace pinstream::runtime
