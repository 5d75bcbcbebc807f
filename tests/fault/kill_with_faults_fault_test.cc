// Kill -9 at random moments while faults are present in the input: poison records (a
// record nested 200,000 deep, a 3 MiB line over the size limit), and a file that appears
// after a later-offset file of its partition was read. After the last restart the run must
// end equal to a clean run over the same input (tables, every view, counters, dead
// letters), and `pinstream verify` must agree.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <random>
#include <thread>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// Poison records in a file of their own at the end of partition 2 of `topic`: one whose
// ignored field nests arrays 200,000 deep (~400 KB), one of 3 MiB (over max_record_bytes).
void add_poison(const fs::path& raw, const std::string& stream) {
  std::string topic = "pinterest." + stream;
  std::string key = stream == "pin" ? "index" : "ind";
  std::string deep = "{\"" + key + "\": 990001, \"junk\": " + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  std::string big = "{\"" + key + "\": 990002, \"junk\": \"" + std::string(3 << 20, 'x') + "\"}";
  write_file(raw / "topics" / topic / "partition=2" / (topic + "+2+900000.json"),
             deep + "\n" + big + "\n");
}

int64_t committed_reads(const PipelineRun& run) {
  std::string out;
  if (run.pinstream("query --config '" + run.config().string() + "' --stats", &out, false) != 0)
    return 0;
  json s = json::parse(out, nullptr, false);
  int64_t n = 0;
  if (s.is_object() && s.contains("streams"))
    for (const auto& [name, c] : s["streams"].items()) n += c.value("read", int64_t{0});
  return n;
}

TEST(KillWithFaults, KillNineWhileFaultsArePresentEndsEqualToACleanRun) {
  PipelineRun run("pinstream-fault-kill", /*epoch_records=*/60);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 5000);  // enough that eight short kill rounds cannot read it all
  for (const char* s : {"pin", "geo", "user"}) add_poison(run.raw(), s);

  // The clean run: all of the input present from the start, no kills.
  fs::path clean_data = run.dir().path() / "clean";
  fs::path kill_data = run.data();
  run.set_data(clean_data);
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  json clean_stats = run.stats();

  // The faulty run: the first file of pin partition 1 arrives only after some kills, when
  // the partition's later file has been read.
  run.set_data(kill_data);
  fs::path held = run.raw() / "topics/pinterest.pin/partition=1/pinterest.pin+1+0.json";
  fs::path aside = run.dir().path() / "held-back.json";
  fs::rename(held, aside);
  std::mt19937 rng(20261129);
  fs::path log = run.dir().path() / "daemon.log";
  int64_t last = 0;
  int progressed = 0;
  for (int round = 0; round < 8; ++round) {
    if (round == 4) fs::rename(aside, held);
    const size_t started = count_in_file(log, kDaemonUp);
    pid_t pid = run.spawn("", log);
    ASSERT_GT(pid, 0);
    // A random instant once the daemon is up (its start takes longer on a loaded machine).
    ASSERT_TRUE(wait_until([&] { return count_in_file(log, kDaemonUp) > started; },
                           std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 120));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    int64_t now = committed_reads(run);
    if (now > last) ++progressed;
    last = now;
  }
  EXPECT_GT(progressed, 1) << read_file(log);
  int64_t clean_reads = 0;
  for (const auto& [name, c] : clean_stats["streams"].items())
    clean_reads += c["read"].get<int64_t>();
  EXPECT_LT(last, clean_reads) << "the daemon finished before the kills; make the input larger";
  ASSERT_EQ(run.run_until_idle(&out), 0) << out << read_file(log);

  // Equal to the clean run, and to the independent model where it applies.
  for (auto [table, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                              std::pair{"user", &expected.user}}) {
    std::multiset<int64_t> want;
    for (const auto& [k, v] : *model) want.insert(k);
    EXPECT_EQ(run.keys(table), want) << table;
  }
  json stats = run.stats();
  for (const auto& [name, c] : clean_stats["streams"].items())
    for (const char* k : {"read", "clean", "dead", "duplicates", "late"})
      EXPECT_EQ(stats["streams"][name][k], c[k]) << name << " " << k;
  const std::string dead_cols = "stream, source, position, reason, length(raw) AS raw_length";
  std::string dead_faulty = run.rows("dead_letters", dead_cols, "stream, position");
  EXPECT_NE(dead_faulty.find("too_deep"), std::string::npos) << dead_faulty.substr(0, 2000);
  for (const char* v : kDefaultViews) {
    json got = run.query(v);
    run.set_data(clean_data);
    json want = run.query(v);
    run.set_data(kill_data);
    EXPECT_TRUE(got.value("ok", false)) << got.dump();
    EXPECT_EQ(got["rows"], want["rows"]) << v;
  }
  for (const char* t : {"late_records", "category_count_by_hour"}) {
    std::string order =
        std::string(t) == "late_records" ? "stream, position" : "window_start, category";
    std::string cols =
        std::string(t) == "late_records" ? "stream, source, position, key, event_time" : "*";
    std::string got = run.rows(t, cols, order);
    run.set_data(clean_data);
    std::string want = run.rows(t, cols, order);
    run.set_data(kill_data);
    EXPECT_EQ(got, want) << t;
  }
  run.set_data(clean_data);
  EXPECT_EQ(run.rows("dead_letters", dead_cols, "stream, position"), dead_faulty);
  run.set_data(kill_data);
  EXPECT_EQ(run.pinstream("verify --config '" + run.config().string() + "'", &out), 0) << out;
}

}  // namespace
}  // namespace pinstream::testing
