// Window tables shared by the members of a group (shared_windows.h) over a local object
// store: two members, each closing its own tasks' windows into partials and frontiers, and
// the writer (owning task 0) merging them. The rows written equal one instance fed every
// row (every measure, sliding windows, held windows, restarts), in window order; a window
// waits for a task whose frontier has not passed it; a crash between the commit and the
// removal of the partials writes nothing twice; a restarted writer resumes; --stats lists
// the windows waiting.
#include "stream/shared_windows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "connectors/objstore/object_store.h"
#include "state/task_aggregates.h"
#include "stream/query/handler.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::runtime {
namespace {
using core::Row;
using pinstream::testing::TempDir;
using state::Aggregates;
using namespace pinstream::state::test;  // NOLINT

constexpr const char* kAggregates =
    "aggregates:\n"
    "  cnt: {group_by: [country], measure: count}\n"
    "  wmed: {group_by: [category], measure: {median: follower_count}, window: {tumbling_ms: "
    "3600000}, table: wmed}\n"
    "  wtop: {group_by: [country], measure: {argmax: follower_count, keep: [poster_name]}, "
    "window: {size_ms: 7200000, slide_ms: 3600000}, table: wtop}\n"
    "  wcnt: {group_by: [country], measure: count, window: {tumbling_ms: 1800000}, table: wcnt}\n"
    "  wsum: {group_by: [age_group], measure: {sum: age}, window: {tumbling_ms: 3600000}, "
    "table: wsum}\n"
    "  wlo: {group_by: [country], measure: {min: follower_count}, window: {tumbling_ms: "
    "3600000}, table: wlo}\n";

std::string text(const Row& r) {
  std::string s;
  for (size_t i = 0; i < r.size(); ++i) s += (i ? "|" : "") + r[i].to_string();
  return s;
}

// An object store in memory (the local store fsyncs every put: too slow for many epochs).
class MemoryStore : public connectors::objstore::ObjectStore {
 public:
  std::string describe() const override { return "memory"; }
  core::Result<std::string> get(const std::string& key,
                                std::optional<connectors::objstore::ByteRange>) override {
    auto it = objects_.find(key);
    if (it == objects_.end()) return core::Status::not_found(key);
    return it->second;
  }
  core::Result<uint64_t> size(const std::string& key) override {
    PS_ASSIGN_OR_RETURN(std::string v, get(key, std::nullopt));
    return v.size();
  }
  core::Status put(const std::string& key, std::string_view data) override {
    objects_[key] = std::string(data);
    return core::Status::ok();
  }
  core::Status put_if_absent(const std::string& key, std::string_view data) override {
    if (objects_.count(key)) return core::Status::exists(key);
    return put(key, data);
  }
  core::Status remove(const std::string& key) override {
    objects_.erase(key);
    return core::Status::ok();
  }
  core::Status remove_many(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) objects_.erase(k);
    return core::Status::ok();
  }
  core::Result<std::vector<connectors::objstore::ObjectInfo>> list(
      const std::string& prefix, const std::string& start_after) override {
    std::vector<connectors::objstore::ObjectInfo> out;
    for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      if (it->first > start_after) out.push_back({it->first, it->second.size(), -1});
    }
    return out;
  }
  core::Status check() override { return core::Status::ok(); }

 private:
  std::map<std::string, std::string> objects_;
};

std::vector<SharedWindows::Table> tables_of(const Aggregates& a) {
  std::vector<SharedWindows::Table> out;
  const auto specs = a.specs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i]->windowed && !specs[i]->table.empty()) out.push_back({specs[i], i});
  return out;
}

// A member: its own state, its tasks, the shared object store.
struct Member {
  std::vector<int32_t> owned;
  connectors::objstore::ObjectStore* objects = nullptr;
  TempDir dir;
  core::ConfigNode root = parse(kAggregates);
  std::unique_ptr<state::StateStore> store;
  std::unique_ptr<Aggregates> task0;
  std::unique_ptr<state::TaskAggregates> tasks;
  std::unique_ptr<SharedWindows> shared;

  void open() {
    shared.reset();
    tasks.reset();
    task0.reset();
    store.reset();
    store = std::move(state::StateStore::open((dir / "db").string())).value();
    task0 =
        std::move(Aggregates::build(*store, *root.find("aggregates"), posts_schema(), "timestamp"))
            .value();
    tasks = std::make_unique<state::TaskAggregates>(*store, *root.find("aggregates"),
                                                    posts_schema(), "timestamp", task0.get());
    for (int32_t t : owned) ASSERT_TRUE(tasks->task(t).has_value());
    shared = std::make_unique<SharedWindows>(*objects, tables_of(*task0));
    ASSERT_TRUE(shared->load(store->live()).is_ok());
  }
  void update(int32_t task, const Row& r, bool late) {
    ASSERT_TRUE((*tasks->task(task))->update(r, late).is_ok());
  }
  // Closes at `watermark`, puts the owned tasks' partials, then their frontiers.
  void close(int64_t watermark, bool final, const Aggregates::HeldQuery& held,
             std::optional<int64_t> hold) {
    std::map<int32_t, std::vector<std::map<std::string, state::GroupPartial>>> by_task;
    std::vector<std::vector<int64_t>> closed;
    ASSERT_TRUE(tasks->close_task_partials(watermark, final, held, by_task, closed).is_ok());
    for (int32_t t : owned) ASSERT_TRUE(shared->publish_partials(t, by_task[t]).is_ok());
    for (const auto& t : tables_of(*task0)) {
      const int64_t f = SharedWindows::frontier(*t.spec, watermark,
                                                tasks->earliest_open(t.aggregate), hold, final);
      for (int32_t task : owned)
        ASSERT_TRUE(shared->publish_frontier(task, t.aggregate, f).is_ok());
    }
  }
  void commit() {
    state::StateStore::WriteBatch b;
    tasks->flush(b);
    shared->flush(b);
    ASSERT_TRUE(store->write(b).is_ok());
  }
};

struct Group {
  TempDir objects_dir;
  std::unique_ptr<connectors::objstore::ObjectStore> objects;
  Member a, b;  // a owns task 0: the writer
  std::map<std::string, std::vector<std::string>> written;
  std::map<std::string, int64_t> last_start;

  // `in_memory`: a MemoryStore, else the local object store (a directory).
  explicit Group(bool in_memory = false) {
    if (in_memory)
      objects = std::make_unique<MemoryStore>();
    else
      objects =
          std::move(connectors::objstore::open_store((objects_dir / "store").string())).value();
    a.owned = {0, 1};
    b.owned = {2, 3};
    a.objects = b.objects = objects.get();
    a.open();
    b.open();
  }
  Member& of(int32_t task) { return task < 2 ? a : b; }
  // The writer's epoch: merge what is ready, commit. Returns the windows still waiting.
  std::vector<SharedWindows::Waiting> merge(bool commit = true) {
    std::map<std::string, std::vector<Row>> rows;
    std::vector<SharedWindows::Waiting> waiting;
    EXPECT_TRUE(a.shared->merge_ready(4, rows, waiting).is_ok());
    for (const auto& [table, list] : rows)
      for (const auto& r : list) {
        // Windows are written in order.
        EXPECT_GE(r[0].i, last_start.count(table) ? last_start[table] : r[0].i) << table;
        last_start[table] = r[0].i;
        written[table].push_back(text(r));
      }
    if (commit) a.commit();
    return waiting;
  }
  size_t partial_objects() {
    auto listed = objects->list("windows/");
    EXPECT_TRUE(listed.has_value());
    size_t n = 0;
    for (const auto& o : *listed) n += o.key.find("/frontier/") == std::string::npos;
    return n;
  }
};

void run_seed(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Group g(true);
  TempDir one_dir;
  core::ConfigNode root = parse(kAggregates);
  auto one_store = std::move(state::StateStore::open((one_dir / "db").string())).value();
  auto one = std::move(Aggregates::build(*one_store, *root.find("aggregates"), posts_schema(),
                                         "timestamp"))
                 .value();
  std::map<std::string, std::vector<std::string>> want;
  int64_t ind = 0, watermark = ts("2020-01-01 00:00:00");
  std::optional<int64_t> prev_hold;
  const char* categories[] = {"art", "tech", "food"};
  const char* countries[] = {"FR", "DE", "US"};
  for (int epoch = 0; epoch < 16; ++epoch) {
    for (int i = pick(24); i > 0; --i) {
      Post p;
      p.ind = ++ind;
      if (pick(8)) p.category = categories[pick(3)];
      if (pick(8)) p.country = countries[pick(3)];
      if (pick(5)) p.poster_name = "p" + std::to_string(pick(4));
      if (pick(5)) p.follower_count = pick(12) - 2;
      if (pick(6)) p.age = 18 + pick(30);
      if (pick(6)) p.age_group = pick(2) ? "18-24" : "25-35";
      // Around the watermark: some late, most within the next three hours.
      Row r = row_of(p);
      r[5] = core::Value::of_timestamp(watermark + (pick(210) - 30) * int64_t{60'000'000});
      // As in a run: a row older than the watermark is late (its windows may have closed).
      const bool late = pick(10) == 0 || r[5].i < watermark;
      ASSERT_TRUE(one->update(r, late).is_ok());
      const int32_t task = static_cast<int32_t>(pick(4));
      g.of(task).update(task, r, late);
    }
    // The post that held a window at the last close completes now: counted (not late)
    // in its task, however far the watermark went.
    if (prev_hold && pick(2) == 0) {
      Post p;
      p.ind = ++ind;
      p.country = countries[pick(3)];
      p.category = categories[pick(3)];
      p.follower_count = pick(12);
      const Row r = row_of(p);
      Row held_row = r;
      held_row[5] = core::Value::of_timestamp(*prev_hold);
      ASSERT_TRUE(one->update(held_row, false).is_ok());
      const int32_t task = static_cast<int32_t>(pick(4));
      g.of(task).update(task, held_row, false);
    }
    // A post whose event-time part came in this epoch (not late: at or after the watermark
    // then) waits for its other parts and holds its windows.
    const int64_t hold = watermark + static_cast<int64_t>(pick(4)) * 1'800'000'000;
    watermark += static_cast<int64_t>(pick(3)) * 1'800'000'000;
    Aggregates::HeldQuery held = [hold](int64_t start, int64_t end) {
      return start <= hold && hold < end;
    };
    prev_hold = hold;
    const bool final = epoch == 15;
    std::map<std::string, std::vector<Row>> rows;
    ASSERT_TRUE(one->close_windows(watermark, final, held, rows).is_ok());
    commit(*one_store, *one);
    for (const auto& [table, list] : rows)
      for (const auto& r : list) want[table].push_back(text(r));
    // The members close on their own, in either order; the writer merges at its epochs.
    const bool b_first = pick(2) == 0;
    if (b_first) g.b.close(watermark, final, held, hold);
    g.a.close(watermark, final, held, hold);
    g.merge();
    if (!b_first) g.b.close(watermark, final, held, hold);
    g.b.commit();
    if (pick(4) == 0) g.a.open();  // the writer restarts: it resumes from its state
    if (pick(4) == 0) g.b.open();
  }
  g.merge();
  ASSERT_TRUE(g.a.shared->remove_written().is_ok());  // as after the last epoch's commit
  for (auto* m : {&want, &g.written})
    for (auto& [table, list] : *m) std::sort(list.begin(), list.end());
  EXPECT_EQ(g.written, want);
  EXPECT_EQ(g.partial_objects(), 0u) << "merged partials are removed";
}

TEST(SharedWindows, MergedRowsEqualOneInstanceFedEveryRow) {
  for (uint64_t seed = 1; seed <= 6; ++seed) run_seed(seed);
}

Row post_at(int64_t ind, const std::string& time) {
  Post p;
  p.ind = ind;
  p.country = "FR";
  p.category = "art";
  p.follower_count = 5;
  p.timestamp = time;
  return row_of(p);
}

TEST(SharedWindows, AWindowWaitsForATaskWhoseFrontierHasNotPassedIt) {
  Group g;
  g.a.update(0, post_at(1, "2020-01-01 00:10:00"), false);
  g.b.update(2, post_at(2, "2020-01-01 00:20:00"), false);
  const int64_t wm = ts("2020-01-01 02:00:00");
  g.a.close(wm, false, {}, std::nullopt);
  auto waiting = g.merge();
  EXPECT_TRUE(g.written.empty());
  ASSERT_EQ(waiting.size(), 4u);  // one per table with rows (wsum has no age group)
  for (const auto& w : waiting) {
    EXPECT_EQ(w.tasks, (std::vector<int32_t>{2, 3})) << w.table;
    EXPECT_EQ(w.window_start,
              w.table == "wtop" ? ts("2019-12-31 23:00:00") : ts("2020-01-01 00:00:00"))
        << w.table;
  }
  g.b.close(wm, false, {}, std::nullopt);
  g.b.commit();
  EXPECT_TRUE(g.merge().empty());
  EXPECT_EQ(g.written["wcnt"],
            (std::vector<std::string>{"2020-01-01T00:00:00|2020-01-01T00:30:00|FR|2"}));
  EXPECT_EQ(g.partial_objects(), 10u) << "removed once the commit landed: at the next epoch";
  g.merge();
  EXPECT_EQ(g.partial_objects(), 0u);
}

TEST(SharedWindows, AWindowHeldByAWaitingPostInAnotherMemberIsNotPassed) {
  Group g;
  g.a.update(0, post_at(1, "2020-01-01 00:10:00"), false);
  g.a.update(0, post_at(2, "2020-01-01 01:10:00"), false);
  // b's join holds a post at 00:40 (its other parts have not come): none of its rows yet.
  const int64_t hold = ts("2020-01-01 00:40:00");
  Aggregates::HeldQuery held = [hold](int64_t s, int64_t e) { return s <= hold && hold < e; };
  const int64_t wm = ts("2020-01-01 02:00:00");
  g.a.close(wm, false, {}, std::nullopt);
  g.b.close(wm, false, held, hold);
  auto waiting = g.merge();
  EXPECT_EQ(g.written["wcnt"],
            (std::vector<std::string>{"2020-01-01T00:00:00|2020-01-01T00:30:00|FR|1"}));
  ASSERT_FALSE(waiting.empty());
  EXPECT_EQ(waiting[0].tasks, (std::vector<int32_t>{2, 3}));
  // The post completes: its window and then the later one are written, in order.
  g.b.update(2, post_at(3, "2020-01-01 00:40:00"), false);
  g.b.close(wm, false, {}, std::nullopt);
  g.merge();
  EXPECT_EQ(g.written["wcnt"],
            (std::vector<std::string>{"2020-01-01T00:00:00|2020-01-01T00:30:00|FR|1",
                                      "2020-01-01T00:30:00|2020-01-01T01:00:00|FR|1",
                                      "2020-01-01T01:00:00|2020-01-01T01:30:00|FR|1"}));
}

TEST(SharedWindows, ACrashBetweenTheCommitAndTheRemovalWritesNothingTwice) {
  Group g;
  g.a.update(1, post_at(1, "2020-01-01 00:10:00"), false);
  g.b.update(3, post_at(2, "2020-01-01 00:40:00"), false);
  const int64_t wm = ts("2020-01-01 03:00:00");
  g.a.close(wm, false, {}, std::nullopt);
  g.b.close(wm, false, {}, std::nullopt);
  // The writer merges without committing (a crash before its state write): written again.
  g.merge(false);
  ASSERT_FALSE(g.written.empty());
  g.written.clear();
  g.last_start.clear();
  g.a.open();
  g.merge();  // merged and committed; a crash before the removal of the partials
  const auto first = g.written;
  ASSERT_EQ(first.at("wcnt").size(), 2u);
  EXPECT_GT(g.partial_objects(), 0u);
  g.a.open();
  // A member redoing its epoch after its own crash puts the same partials again.
  g.b.open();
  g.b.update(3, post_at(2, "2020-01-01 00:40:00"), false);
  g.b.close(wm, false, {}, std::nullopt);
  g.merge();
  EXPECT_EQ(g.written, first) << "nothing written twice";
  EXPECT_EQ(g.partial_objects(), 0u);
  // The restarted writer goes on with later windows.
  g.a.update(0, post_at(3, "2020-01-01 03:30:00"), false);
  g.a.close(ts("2020-01-01 06:00:00"), false, {}, std::nullopt);
  g.b.close(ts("2020-01-01 06:00:00"), false, {}, std::nullopt);
  g.merge();
  EXPECT_EQ(g.written.at("wcnt").size(), 3u);
}

TEST(SharedWindows, FrontierIsTheEarliestWindowATaskMayStillClose) {
  state::AggregateSpec tumbling;
  tumbling.size_micros = tumbling.slide_micros = 3'600'000'000;
  const int64_t h = 3'600'000'000;
  EXPECT_EQ(SharedWindows::frontier(tumbling, 5 * h + 10, std::nullopt, std::nullopt, false),
            5 * h);
  EXPECT_EQ(SharedWindows::frontier(tumbling, 5 * h, std::nullopt, std::nullopt, false), 5 * h);
  EXPECT_EQ(SharedWindows::frontier(tumbling, 5 * h, 2 * h, std::nullopt, false), 2 * h);
  EXPECT_EQ(SharedWindows::frontier(tumbling, 5 * h, std::nullopt, 3 * h + 5, false), 3 * h);
  EXPECT_EQ(SharedWindows::frontier(tumbling, -h - 1, std::nullopt, std::nullopt, false), -2 * h);
  EXPECT_EQ(SharedWindows::frontier(tumbling, 0, std::nullopt, std::nullopt, true),
            std::numeric_limits<int64_t>::max());
  state::AggregateSpec sliding;
  sliding.size_micros = 2 * h;
  sliding.slide_micros = h;
  // Windows [3h,5h) and [4h,6h) hold 4h+5: the earlier one bounds the frontier.
  EXPECT_EQ(SharedWindows::frontier(sliding, 9 * h, std::nullopt, 4 * h + 5, false), 3 * h);
  EXPECT_EQ(SharedWindows::frontier(sliding, 9 * h, std::nullopt, std::nullopt, false), 8 * h);
}

TEST(SharedWindows, StatsSayWhichWindowsWaitForWhichTasks) {
  CommittedView v;
  v.metrics.windows_waiting.push_back(
      {"category_count_by_hour", ts("2021-03-04 05:00:00"), {2, 3}, 4});
  QueryContext ctx;
  ctx.committed = [&v] { return v; };
  const nlohmann::json j = nlohmann::json::parse(stats_json(ctx));
  ASSERT_TRUE(j.contains("windows_waiting")) << j.dump();
  EXPECT_EQ(j["windows_waiting"], nlohmann::json::parse(R"([{"table":"category_count_by_hour",
      "window_start":"2021-03-04T05:00:00","waiting_for_tasks":[2,3],"windows":4}])"));
  v.metrics.windows_waiting.clear();
  EXPECT_FALSE(nlohmann::json::parse(stats_json(ctx)).contains("windows_waiting"));
}

}  // namespace
}  // namespace pinstream::runtime
