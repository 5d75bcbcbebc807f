// SPEC section 5's live-file bound at every version, with the built binary: a daemon over a
// trickle of posts (S3-sink files of one record, moved in every 40 ms) commits an epoch every
// 40 ms while auto-compaction runs with a small `min_files`; every version of every table,
// replayed from its Delta log, holds fewer than min_files + data/target live files, not
// only the versions right after a compaction.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kMinFiles = 12;
constexpr int64_t kTarget = 64 << 10;

struct Replay {
  int64_t versions = 0, optimizes = 0, max_live = 0, over = 0;
  std::string first_over;  // "version V: N live files, B bytes"
};

// Replays every commit of a local table's log (none is cleaned up in a young table).
Replay replay(const fs::path& table) {
  Replay r;
  std::map<std::string, int64_t> live;  // path -> size
  for (int64_t v = 0;; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%020lld.json", static_cast<long long>(v));
    std::ifstream in(table / "_delta_log" / name);
    if (!in) break;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto a = nlohmann::json::parse(line);
      if (a.contains("add")) live[a["add"]["path"]] = a["add"]["size"].get<int64_t>();
      if (a.contains("remove")) live.erase(a["remove"]["path"].get<std::string>());
      if (a.contains("commitInfo") && a["commitInfo"].value("operation", "") == "OPTIMIZE")
        ++r.optimizes;
    }
    int64_t data = 0;
    for (const auto& [path, size] : live) data += size;
    const auto n = static_cast<int64_t>(live.size());
    ++r.versions;
    r.max_live = std::max(r.max_live, n);
    if (n * kTarget >= kMinFiles * kTarget + data && r.over++ == 0)
      r.first_over = "version " + std::to_string(v) + ": " + std::to_string(n) + " live files, " +
                     std::to_string(data) + " bytes";
  }
  return r;
}

int64_t versions(const fs::path& table) {
  int64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(table / "_delta_log", ec))
    n += e.path().extension() == ".json";
  return n;
}

// The S3-sink input under `staging` split into files of one record each (named by their
// offsets, as the sink names them), per partition folder, in offset order.
std::map<fs::path, std::deque<fs::path>> split_records(const fs::path& staging) {
  std::map<fs::path, std::vector<fs::path>> originals;
  for (const auto& e : fs::recursive_directory_iterator(staging))
    if (e.is_regular_file()) originals[e.path().parent_path()].push_back(e.path());
  std::map<fs::path, std::deque<fs::path>> out;
  for (auto& [dir, files] : originals) {
    auto offset = [](const fs::path& p) {
      std::string n = p.stem().string();
      return std::stoll(n.substr(n.rfind('+') + 1));
    };
    std::sort(files.begin(), files.end(),
              [&](const fs::path& a, const fs::path& b) { return offset(a) < offset(b); });
    for (const auto& f : files) {
      std::string n = f.stem().string(), prefix = n.substr(0, n.rfind('+') + 1), line;
      std::ifstream in(f);
      for (long long off = offset(f); std::getline(in, line); ++off) {
        fs::path one = dir / ("one-" + prefix + std::to_string(off) + ".json");
        std::ofstream(one) << line << "\n";
        out[dir].push_back(one);
      }
      fs::remove(f);
    }
  }
  return out;
}

// Moves one record file of each stream into `raw` every `every` (one partition at a time),
// as a sink connector would, until `stop`.
void feed(std::map<fs::path, std::deque<fs::path>> queues, const fs::path& staging,
          const fs::path& raw, std::chrono::milliseconds every, const std::atomic<bool>& stop) {
  for (size_t tick = 0; !stop; ++tick) {
    for (auto& [dir, q] : queues) {
      const std::string part = dir.filename().string();
      if (q.empty() || part != "partition=" + std::to_string(tick % 3)) continue;
      const fs::path to = raw / fs::relative(dir, staging);
      fs::create_directories(to);
      fs::rename(q.front(), to / q.front().filename().string().substr(4));
      q.pop_front();
    }
    std::this_thread::sleep_for(every);
  }
}

int stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Stops a spawned process when the test returns early (a failed ASSERT).
struct StopOnExit {
  pid_t pid;
  ~StopOnExit() {
    if (pid > 0) stop(pid);
  }
};

TEST(UpkeepBound, LiveFilesStayUnderTheBoundAtEveryVersion) {
  PipelineRun run("ps-upkeep-bound");
  run.edit_config("epoch_interval_ms: 1000", "epoch_interval_ms: 40");
  run.edit_config("    root: ${PINSTREAM_FILES:-}",
                  "    root: ${PINSTREAM_FILES:-}\n    list_interval_ms: 10");
  run.edit_config("  root: ${PINSTREAM_TABLES:-}",
                  "  upkeep: {min_files: " + std::to_string(kMinFiles) + ", target_file_bytes: " +
                      std::to_string(kTarget) + "}\n  root: ${PINSTREAM_TABLES:-}");
  const fs::path staging = run.dir().path() / "staging";
  ExpectedPipeline().write_input(staging, 1000);
  auto queues = split_records(staging);
  fs::create_directories(run.raw());
  const fs::path log = run.dir().path() / "daemon.log";
  StopOnExit daemon{run.spawn("", log)};
  std::atomic<bool> done{false};
  std::thread feeder(feed, std::move(queues), staging, run.raw(), std::chrono::milliseconds(40),
                     std::cref(done));
  // 200 versions of pin: over a dozen looks and their cascades.
  const bool reached =
      wait_until([&] { return versions(run.tables() / "pin") >= 200; }, std::chrono::seconds(90));
  done = true;
  feeder.join();
  ASSERT_TRUE(reached) << read_file(log);
  EXPECT_EQ(stop(daemon.pid), 0) << read_file(log);
  daemon.pid = 0;
  for (const char* t : {"pin", "geo", "user"}) {
    Replay r = replay(run.tables() / t);
    SCOPED_TRACE(std::string(t) + ": " + std::to_string(r.versions) + " versions, " +
                 std::to_string(r.optimizes) + " compactions, at most " +
                 std::to_string(r.max_live) + " live files");
    std::printf("%s: %lld versions, %lld compactions, at most %lld live files\n", t,
                static_cast<long long>(r.versions), static_cast<long long>(r.optimizes),
                static_cast<long long>(r.max_live));
    EXPECT_GT(r.optimizes, 5);
    EXPECT_EQ(r.over, 0) << r.first_over << "\n" << read_file(log);
  }
}

}  // namespace
}  // namespace pinstream::testing
