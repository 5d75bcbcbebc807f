// Windowed aggregates whatever the timing (issue 14, items 8, 10, 11): the same input fed all
// at once, as a trickle with geo first and the pin/user parts of half the posts several
// epochs later (a daemon killed -9 between the phases), and with random epoch lengths, ends with
// identical category_count_by_hour tables and views equal to the independent model. Posts without
// poster_name or category stay out of the views they would report null in; a year-2100 geo
// record is a `future` late record and does not make the records after it late; join
// entries that expire are counted and recorded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kPartitions = 3;
constexpr int64_t kFutureKey = 990001;

int64_t key_of(const json& o) {
  return o.contains("index") ? o["index"].get<int64_t>() : o["ind"].get<int64_t>();
}

// Posts from the shared data (in a shuffled order, so that categories mix), rewritten so
// that windows are dense (about 90 posts an hour), with a few late geo records, posts
// without poster_name or category, and one geo record from the year 2100 early in
// partition 0. Each partition's lines go into two files: `<topic>+<p>+0.json` and
// `<topic>+<p>+<half>.json`. Geo lines are in event-time order; pin and user lines hold the
// even posts first and the odd ones second, so that every hour has posts of both halves.
struct Input {
  // stream -> partition -> lines
  std::map<std::string, std::map<int, std::vector<std::string>>> lines;
  size_t posts = 0, null_posters = 0, null_categories = 0;

  // `waiting_partition` >= 0: only that partition's odd posts come in the second half.
  explicit Input(size_t max_posts, int waiting_partition = -1) {
    std::map<std::string, std::map<int64_t, json>> by_key;
    for (const char* s : {"pin", "geo", "user"})
      for (const auto& l : read_lines(shared_data_dir() / (std::string(s) + ".jsonl"))) {
        json o = json::parse(l);
        by_key[s].emplace(key_of(o), o);
      }
    std::vector<int64_t> keys;
    for (const auto& [key, pin] : by_key["pin"])
      if (by_key["geo"].count(key) && by_key["user"].count(key)) keys.push_back(key);
    std::mt19937 rng(14);
    std::shuffle(keys.begin(), keys.end(), rng);
    if (keys.size() > max_posts) keys.resize(max_posts);
    std::map<std::string, std::map<int, std::vector<std::string>>> odd;
    const int64_t base = *expected_parse_time("2021-03-04 00:00:00");
    for (int64_t key : keys) {
      json pin = by_key["pin"][key];
      json geo = by_key["geo"][key];
      int64_t t = base + static_cast<int64_t>(posts) * 40 + static_cast<int64_t>(rng() % 240);
      if (posts % 53 == 52) t -= 3 * 3600;  // late: hours behind its partition
      geo["timestamp"] = expected_format_time(t);
      if (posts % 9 == 4) {
        pin["poster_name"] = "";
        ++null_posters;
      }
      if (posts % 11 == 6) {
        pin["category"] = "";
        ++null_categories;
      }
      int p = static_cast<int>(key % kPartitions);
      const bool waits = posts % 2 == 1 && (waiting_partition < 0 || p == waiting_partition);
      auto& parts = waits ? odd : lines;
      parts["pin"][p].push_back(pin.dump());
      parts["user"][p].push_back(by_key["user"][key].dump());
      lines["geo"][p].push_back(geo.dump());
      if (lines["geo"][0].size() == 2 && p == 0) {
        json future = {{"ind", kFutureKey},
                       {"timestamp", "2100-01-01 00:00:00"},
                       {"latitude", 1.5},
                       {"longitude", 2.5},
                       {"country", "Atlantis"}};
        lines["geo"][0].push_back(future.dump());
      }
      ++posts;
    }
    for (auto& [s, by_part] : odd)
      for (auto& [p, ls] : by_part) {
        split[s][p] = lines[s][p].size();
        lines[s][p].insert(lines[s][p].end(), ls.begin(), ls.end());
      }
  }
  // stream -> partition -> index of the first line of the second file (pin, user: the first
  // odd post; geo: the middle)
  std::map<std::string, std::map<int, size_t>> split;
  static fs::path file(const fs::path& root, const std::string& stream, int p, size_t offset) {
    std::string topic = "pinterest." + stream;
    return root / "topics" / topic / ("partition=" + std::to_string(p)) /
           (topic + "+" + std::to_string(p) + "+" + std::to_string(offset) + ".json");
  }
  // Writes the first (`second` false) or second half files of `streams` under `root`.
  void write(const fs::path& root, const std::vector<std::string>& streams, bool first,
             bool second) const {
    for (const auto& s : streams)
      for (const auto& [p, ls] : lines.at(s)) {
        size_t half = !split.count(s)        ? ls.size() / 2
                      : split.at(s).count(p) ? split.at(s).at(p)
                                             : ls.size();  // none of its posts waits
        std::string a, b;
        for (size_t i = 0; i < ls.size(); ++i) (i < half ? a : b) += ls[i] + "\n";
        if (first) write_file(file(root, s, p, 0), a);
        if (second) write_file(file(root, s, p, half), b);
      }
  }
};

// A run of the default pipeline with its own epoch settings (and join expiry).
struct WindowsRun : PipelineRun {
  explicit WindowsRun(const std::string& name, const std::string& runtime_yaml,
                      const std::string& join_yaml = "")
      : PipelineRun(name) {
    edit_config("  epoch_interval_ms: 1000\n  epoch_max_records: 200000\n", runtime_yaml);
    if (!join_yaml.empty()) edit_config("expire_after_ms: 604800000", join_yaml);
  }
  pid_t spawn_daemon() const { return spawn("", dir().path() / "daemon.log"); }
  // Stats of the running daemon, over its socket.
  json live_stats() const {
    std::string out;
    run_command(pinstream_binary().string() + " query --socket '" +
                    (data() / "pinstream.sock").string() + "' --stats 2>/dev/null",
                &out, false);
    return json::parse(out, nullptr, false);
  }
  json view(const std::string& v) const {
    json j = query(v);
    EXPECT_TRUE(j.is_object() && j.value("ok", false)) << v << ": " << j.dump();
    return j.is_object() ? j["rows"] : json();
  }
  json table(const std::string& name, const std::string& select, const std::string& order) const {
    return json::parse(rows(name, select, order), nullptr, false);
  }
  // The windows table as [window_start, category, count] rows, like the view's.
  json windows_table() const {
    json rows =
        table("category_count_by_hour",
              "strftime(window_start, '%Y-%m-%dT%H:%M:%S') AS ws, category, count", "ws, category");
    json out = json::array();
    for (const auto& r : rows) out.push_back({r["ws"], r["category"], r["count"]});
    return out;
  }
};

class WindowsFault : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = std::make_unique<Input>(900);
    TempDir model_dir("ps-windows-model");
    input_->write(model_dir.path(), {"pin", "geo", "user"}, true, true);
    model_.read_input(model_dir.path());
  }
  // Every view equals the model, and the windows table holds exactly the model's windows.
  void expect_matches_model(const WindowsRun& run, const std::string& what) {
    for (const char* v : kDefaultViews) {
      json want = model_.view(v);
      json got = run.view(v);
      EXPECT_EQ(got, want) << what << ": " << v << "\n got: " << got.dump().substr(0, 1500)
                           << "\nwant: " << want.dump().substr(0, 1500);
    }
    json want = model_.view("category_count_by_hour");
    json got = run.windows_table();
    EXPECT_EQ(got, want)
        << what << ": the category_count_by_hour table (each window once, complete)\n got: "
        << got.dump().substr(0, 1500);
    json s = run.stats();
    for (const auto& [name, c] : model_.counters) {
      EXPECT_EQ(s["streams"][name]["read"], c.read) << what << " " << name;
      EXPECT_EQ(s["streams"][name]["late"], c.late) << what << " " << name;
      EXPECT_EQ(s["streams"][name]["join_expired"], 0) << what << " " << name;
    }
  }
  std::unique_ptr<Input> input_;
  ExpectedPipeline model_;
};

TEST_F(WindowsFault, AllAtOnceMatchesTheModelWithNullsLeftOutAndTheFutureRecordLate) {
  WindowsRun run("ps-windows-once", "  epoch_interval_ms: 1000\n  epoch_max_records: 200000\n");
  input_->write(run.raw(), {"pin", "geo", "user"}, true, true);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  expect_matches_model(run, "all at once");
  // The input really has what the rules are about.
  EXPECT_GT(input_->null_posters, 50u);
  EXPECT_GT(input_->null_categories, 50u);
  EXPECT_GT(model_.view("category_count_by_hour").size(), 60u);
  for (const auto& row : run.view("most_followed_user_by_country"))
    EXPECT_FALSE(row[1].is_null()) << row.dump();
  for (const auto& row : run.view("category_count_by_hour"))
    EXPECT_FALSE(row[1].is_null()) << row.dump();
  // The year-2100 record: a late record whose event time lies beyond its bound (`future`),
  // and the records after it in its partition are not late (the model says how many are).
  json late =
      run.table("late_records",
                "key, epoch(event_time)::BIGINT AS et, epoch(watermark)::BIGINT AS wm", "key");
  bool found = false;
  for (const auto& r : late) {
    if (r["key"] != kFutureKey) {
      EXPECT_LT(r["et"].get<int64_t>(), r["wm"].get<int64_t>()) << r.dump();
      continue;
    }
    found = true;
    EXPECT_GT(r["et"].get<int64_t>(), r["wm"].get<int64_t>())
        << "a future record's watermark is now + max_future";
    EXPECT_LT(r["wm"].get<int64_t>(), static_cast<int64_t>(std::time(nullptr)) + 2 * 86400);
  }
  EXPECT_TRUE(found) << late.dump();
  EXPECT_EQ(late.size(), static_cast<size_t>(model_.counters["geo"].late));
  EXPECT_LT(model_.counters["geo"].late, 30)
      << "only the hand-made late records and the future one";
  EXPECT_EQ(run.stats()["streams"]["geo"]["late_future"], 1);
}

// Geo first, the pin/user parts of half the posts epochs later, kills -9 in between.
void trickle(const Input& input, ExpectedPipeline& model, WindowsRun& run);

TEST_F(WindowsFault, TrickleWithGeoFirstAndPartsEpochsBehindMatchesTheModel) {
  WindowsRun run("ps-windows-trickle",
                 "  epoch_interval_ms: 40\n  epoch_max_records: 200000\n  poll_batch: 64\n");
  trickle(*input_, model_, run);
  if (HasFatalFailure()) return;
  expect_matches_model(run, "trickle");
}

// The same with one task per partition (SPEC section 9), only partition 2's posts waiting:
// task 2's join alone holds their windows (a window closes when no task holds it), and each
// window's row merges the tasks' partials.
TEST_F(WindowsFault, TrickleInPartitionsModeMatchesTheModel) {
  input_ = std::make_unique<Input>(900, 2);
  TempDir model_dir("ps-windows-model-tasks");
  input_->write(model_dir.path(), {"pin", "geo", "user"}, true, true);
  model_ = ExpectedPipeline();
  model_.read_input(model_dir.path());
  WindowsRun run("ps-windows-trickle-tasks",
                 "  epoch_interval_ms: 40\n  epoch_max_records: 200000\n  poll_batch: 64\n");
  run.edit_config("  id: ${PINSTREAM_ID:-pinterest}\n",
                  "  id: ${PINSTREAM_ID:-pinterest}\n  tasks: partitions\n");
  trickle(*input_, model_, run);
  if (HasFatalFailure()) return;
  expect_matches_model(run, "trickle, partitions");
  EXPECT_EQ(run.stats()["tasks"].size(), static_cast<size_t>(kPartitions));
}

void trickle(const Input& input, ExpectedPipeline& model, WindowsRun& run) {
  // Geo of every post and the pin/user parts of the first half: the watermark passes most
  // windows while the second half's posts still wait for their parts.
  input.write(run.raw(), {"geo"}, true, true);
  input.write(run.raw(), {"pin", "user"}, true, false);
  int64_t geo_total = model.counters["geo"].read;
  pid_t pid = run.spawn_daemon();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        json s = run.live_stats();
        return s.is_object() && s.value("ok", false) && s["streams"]["geo"]["read"] == geo_total;
      },
      std::chrono::seconds(60)))
      << read_file(run.dir().path() / "daemon.log");
  // A kill -9 and a restart: the posts still waiting hold their windows from the
  // committed state.
  auto kill_and_restart = [&] {
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = run.spawn_daemon();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_until(
        [&] {
          json s = run.live_stats();
          return s.is_object() && s.value("ok", false);
        },
        std::chrono::seconds(60)))
        << read_file(run.dir().path() / "daemon.log");
  };
  kill_and_restart();
  // The watermark has passed the windows of the posts still waiting; their parts come in
  // later epochs (the daemon commits only epochs with records: pin first, then user).
  input.write(run.raw(), {"pin"}, false, true);
  ASSERT_TRUE(wait_until(
      [&] {
        json s = run.live_stats();
        return s.is_object() && s.value("ok", false) &&
               s["streams"]["pin"]["read"] == model.counters["pin"].read;
      },
      std::chrono::seconds(60)))
      << read_file(run.dir().path() / "daemon.log");
  kill_and_restart();
  json mid = run.live_stats();
  input.write(run.raw(), {"user"}, false, true);
  ASSERT_TRUE(wait_until(
      [&] {
        json s = run.live_stats();
        return s.is_object() && s.value("ok", false) &&
               s["streams"]["user"]["read"] == model.counters["user"].read;
      },
      std::chrono::seconds(60)))
      << read_file(run.dir().path() / "daemon.log");
  EXPECT_GT(run.live_stats()["epoch"].get<int64_t>(), mid["epoch"].get<int64_t>());
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << read_file(run.dir().path() / "daemon.log");
  // A restart with --until-idle ends the run (closing the windows still open).
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
}

TEST_F(WindowsFault, RandomEpochLengthsMatchTheModel) {
  std::mt19937 rng(20261129);
  for (int round = 0; round < 2; ++round) {
    int records = 5 + static_cast<int>(rng() % 60);
    WindowsRun run("ps-windows-epochs",
                   "  epoch_interval_ms: " + std::to_string(20 + rng() % 200) +
                       "\n  epoch_max_records: " + std::to_string(records) + "\n  poll_batch: " +
                       std::to_string(1 + rng() % static_cast<unsigned>(records)) + "\n");
    input_->write(run.raw(), {"pin", "geo", "user"}, true, true);
    std::string out;
    ASSERT_EQ(run.run_until_idle(&out), 0) << out;
    expect_matches_model(run, "epochs of " + std::to_string(records) + " records");
  }
}

// Parts that wait longer than the join's expiry leave the join counted (stats) and recorded
// (join_expired table); the post never counts, in no view and no window.
TEST_F(WindowsFault, ExpiredJoinPartsAreCountedAndRecorded) {
  // One epoch (until the input is drained) with the default expiry (7 days): every part
  // whose partners never come is still waiting at its end. Then a run with a 1 ms expiry
  // and nothing new to read: every part waiting, and only those, expires at its seal.
  // (A single run with a 1 ms expiry would leave the parts read in the last millisecond
  // before its seal waiting, which then depends on the machine's speed.)
  WindowsRun run("ps-windows-expiry",
                 "  epoch_interval_ms: 600000\n  epoch_max_records: 10000000\n");
  input_->write(run.raw(), {"geo"}, true, true);
  input_->write(run.raw(), {"pin", "user"}, true, false);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  EXPECT_EQ(run.stats()["streams"]["geo"]["join_expired"], 0);
  run.edit_config("expire_after_ms: 604800000", "expire_after_ms: 1");
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  // The model of what was fed: posts whose pin and user were fed.
  TempDir fed("ps-windows-expiry-model");
  input_->write(fed.path(), {"geo"}, true, true);
  input_->write(fed.path(), {"pin", "user"}, true, false);
  ExpectedPipeline model;
  model.read_input(fed.path());
  std::set<int64_t> waiting;
  for (const auto& [k, g] : model.geo) waiting.insert(k);
  for (const auto& p : model.posts) waiting.erase(p.ind);
  json expired = run.table("join_expired", "key, arrived, missing", "key");
  std::set<int64_t> got;
  for (const auto& r : expired) {
    got.insert(r["key"].get<int64_t>());
    EXPECT_EQ(r["arrived"], "geo") << r.dump();
    EXPECT_EQ(r["missing"], "pin,user") << r.dump();
  }
  EXPECT_EQ(got, waiting);
  EXPECT_GT(waiting.size(), 300u);
  json s = run.stats();
  EXPECT_EQ(s["streams"]["geo"]["join_expired"], static_cast<int64_t>(waiting.size()));
  EXPECT_EQ(s["streams"]["pin"]["join_expired"], 0);
  for (const char* v : {"category_count_by_hour", "most_popular_category_by_country"})
    EXPECT_EQ(run.view(v), model.view(v)) << v;
  EXPECT_EQ(run.windows_table(), model.view("category_count_by_hour"));
}

}  // namespace
}  // namespace pinstream::testing
