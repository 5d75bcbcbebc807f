// `pinstream run --available-now` as a scheduler runs it, with a producer writing all the
// while: each run ends by itself, reads exactly up to the end positions it logged at start
// (Kafka offsets, Kinesis sequence numbers, file sizes), the next run picks up exactly the
// rest, and together the runs equal one clean run over everything.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/kinesis_emulator.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

// Every view but the windowed one: which records are late depends on how the input was cut
// into runs (a run closes its windows at its end, as --until-idle does).
const char* kViews[] = {
    "most_popular_category_by_country",   "category_count_by_year",
    "most_popular_category_by_year",      "most_followed_user_by_country",
    "country_with_most_followed_user",    "most_popular_category_by_age_group",
    "median_follower_count_by_age_group", "users_joined_by_year",
    "median_follower_count_by_join_year", "median_follower_count_by_age_group_and_join_year"};
const char* kStreams[] = {"pin", "geo", "user"};

std::string config() { return (source_dir() / "examples/pinterest/pipeline.yaml").string(); }

pid_t spawn_shell(const std::string& cmd, const fs::path& log, bool merge = true) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string full =
        "exec env " + cmd + " >>'" + log.string() + "' " + (merge ? "2>&1" : "2>/dev/null");
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

bool still_running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// The "End position. partition=P end=E" lines a run logs at start.
std::map<std::string, std::string> logged_ends(const std::string& log) {
  std::map<std::string, std::string> ends;
  const std::string tag = "End position. partition=";
  for (size_t at = 0; (at = log.find(tag, at)) != std::string::npos;) {
    at += tag.size();
    size_t sp = log.find(" end=", at), nl = log.find('\n', at);
    ends[log.substr(at, sp - at)] = log.substr(sp + 5, nl - sp - 5);
  }
  return ends;
}

std::string stream_of(const std::string& partition_id) {
  for (const char* s : kStreams)
    if (partition_id.find(std::string(".") + s + "/") != std::string::npos ||
        partition_id.find(std::string("-") + s + "/") != std::string::npos)
      return s;
  return "";
}

struct Scenario {
  TempDir dir{"ps-avail"};
  std::string env;  // PINSTREAM_* for every command
  std::string data() const { return (dir.path() / "data").string(); }

  std::string pinstream(const std::string& data_dir, const std::string& wrap = "") const {
    return env + "PINSTREAM_DATA='" + data_dir + "' " + wrap + pinstream_binary().string();
  }
  json stats(const std::string& data_dir, bool expect = true) const {
    std::string out;
    int rc = run_command(pinstream(data_dir) + " query --config '" + config() + "' --stats", &out,
                         false);
    if (expect) {
      EXPECT_EQ(rc, 0) << out;
    }
    json j = json::parse(out, nullptr, false);
    return j.is_object() ? j : json::object();
  }
  // One --available-now run (bounded by `timeout` so a run that never ends fails the test).
  std::string run_available_now(int* rc) const {
    std::string out;
    *rc = run_command(
        pinstream(data(), "timeout 90 ") + " run --config '" + config() + "' --available-now",
        &out);
    return out;
  }
  // The whole input once, in a data dir of its own, against the runs' result.
  void expect_equal_to_clean_run() const {
    const std::string clean = (dir.path() / "clean").string();
    std::string out;
    ASSERT_EQ(run_command(pinstream(clean) + " run --config '" + config() + "' --until-idle", &out),
              0)
        << out;
    json a = stats(data()), b = stats(clean);
    for (const char* s : kStreams)
      for (const char* c : {"read", "clean", "dead", "duplicates"})
        EXPECT_EQ(a["streams"][s][c], b["streams"][s][c]) << s << " " << c;
    for (const char* v : kViews) {
      std::string x, y;
      run_command(pinstream(data()) + " query --config '" + config() + "' " + v + " --format json",
                  &x, false);
      run_command(pinstream(clean) + " query --config '" + config() + "' " + v + " --format json",
                  &y, false);
      EXPECT_EQ(json::parse(x, nullptr, false)["rows"], json::parse(y, nullptr, false)["rows"])
          << v;
    }
  }
};

// Runs --available-now while `producer` writes, until it has finished and a last run found
// nothing new. `check` compares one run's committed state against the ends it logged.
// Returns the number of runs that read something while the producer was still writing.
int run_while_producing(const Scenario& sc, pid_t producer,
                        const std::function<void(const std::map<std::string, std::string>&,
                                                 const json& stats)>& check) {
  int during = 0;
  for (bool last = false; !last;) {
    last = !still_running(producer);  // after it finished: one more run takes the rest
    const int64_t before = sc.stats(sc.data(), false).value("epoch", int64_t{0});
    int rc = 0;
    std::string log = sc.run_available_now(&rc);
    EXPECT_EQ(rc, 0) << log;
    if (rc != 0) return during;
    auto ends = logged_ends(log);
    EXPECT_FALSE(ends.empty()) << log;
    json st = sc.stats(sc.data());
    check(ends, st);
    if (!last && still_running(producer) && st.value("epoch", int64_t{0}) > before) ++during;
  }
  return during;
}

TEST(AvailableNow, KafkaRunsEndWhileTheProducerWritesAndTogetherReadEverythingOnce) {
  Scenario sc;
  // Its first line on stdout is the bootstrap address.
  pid_t broker = spawn_shell(pinstream_binary().string() + " broker --partitions 3",
                             sc.dir.path() / "broker.log", /*merge=*/false);
  std::string servers;
  ASSERT_TRUE(wait_until(
      [&] {
        servers = read_file(sc.dir.path() / "broker.log");
        return servers.find('\n') != std::string::npos;
      },
      std::chrono::seconds(20)));
  servers = servers.substr(0, servers.find('\n'));
  const std::string id = unique_name("avk");
  sc.env = "PINSTREAM_ID=" + id + " PINSTREAM_SOURCE=kafka PINSTREAM_KAFKA=" + servers + " ";
  pid_t producer =
      spawn_shell(sc.env + pinstream_binary().string() + " emulate --count 1500 --rate 300/s",
                  sc.dir.path() / "emulate.log");
  // Something to read before the first run: the first 30 pins are in.
  ASSERT_TRUE(wait_until(
      [&] {
        std::string out;
        return run_command("kcat -b " + servers + " -C -t " + id + ".pin -o beginning -c 30 -e -q",
                           &out, false) == 0 &&
               std::count(out.begin(), out.end(), '\n') >= 30;
      },
      std::chrono::seconds(20)));
  // Kafka ends are offsets: after each run, a stream has read sum(end + 1) over its
  // partitions, and each partition's committed offset is its end.
  int during = run_while_producing(sc, producer, [](const auto& ends, const json& st) {
    std::map<std::string, int64_t> expected;
    for (const auto& [part, end] : ends) {
      expected[stream_of(part)] += std::stoll(end) + 1;
      if (std::stoll(end) >= 0) {
        EXPECT_EQ(st["positions"][part], end) << part;
      }
    }
    for (const char* s : kStreams) EXPECT_EQ(st["streams"][s]["read"], expected[s]) << s;
  });
  EXPECT_GE(during, 1) << "no run read records while the producer was still writing";
  int status = 0;
  ::waitpid(producer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << read_file(sc.dir.path() / "emulate.log");
  json st = sc.stats(sc.data());
  for (const char* s : kStreams) EXPECT_EQ(st["streams"][s]["read"], 1500) << s;
  sc.expect_equal_to_clean_run();
  ::kill(broker, SIGTERM);
  ::waitpid(broker, &status, 0);
}

// Complete lines (non-blank) within the first `bytes` of `file`.
int64_t lines_within(const fs::path& file, int64_t bytes) {
  std::string text = read_file(file).substr(0, static_cast<size_t>(bytes));
  int64_t n = 0;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    if (nl > start) ++n;
  return n;
}

TEST(AvailableNow, FilesRunsReadTheBytesPresentAtStartAndTogetherEverythingOnce) {
  Scenario sc;
  const fs::path raw = sc.dir.path() / "raw";
  fs::create_directories(raw);
  sc.env = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + raw.string() + "' ";
  // The files sink writes through stdio buffers: files end inside a line most of the time.
  pid_t producer = spawn_shell(pinstream_binary().string() + " emulate --sink files --out '" +
                                   raw.string() + "' --count 1500 --rate 300/s",
                               sc.dir.path() / "emulate.log");
  ASSERT_TRUE(wait_until(
      [&] {
        std::error_code ec;
        return fs::exists(raw / "topics/pinterest.pin/partition=0/pinterest.pin+0+0.json", ec) &&
               fs::file_size(raw / "topics/pinterest.pin/partition=0/pinterest.pin+0+0.json", ec) >
                   0;
      },
      std::chrono::seconds(20)));
  // Files ends are sizes: a stream has read the complete lines within them.
  int during = run_while_producing(sc, producer, [&](const auto& ends, const json& st) {
    std::map<std::string, int64_t> expected;
    for (const auto& [part, end] : ends) {
      json e = json::parse(end);
      const std::string topic = part.substr(0, part.find('/'));
      fs::path file = raw / "topics" / topic / ("partition=" + part.substr(part.find('/') + 1)) /
                      e["last"].get<std::string>();
      if (e["files"] == 1)
        expected[stream_of(part)] += lines_within(file, e["bytes"].get<int64_t>());
    }
    for (const char* s : kStreams) EXPECT_EQ(st["streams"][s]["read"], expected[s]) << s;
  });
  EXPECT_GE(during, 1) << "no run read records while the producer was still writing";
  int status = 0;
  ::waitpid(producer, &status, 0);
  json st = sc.stats(sc.data());
  for (const char* s : kStreams) EXPECT_EQ(st["streams"][s]["read"], 1500) << s;
  sc.expect_equal_to_clean_run();
}

TEST(AvailableNow, KinesisRunsStopAtTheLoggedSequenceNumbersAndTogetherReadEverythingOnce) {
  std::string error;
  auto emu = KinesisEmulator::start(KinesisEmulatorKind::kKinesalite, &error);
  ASSERT_TRUE(emu) << error;
  Scenario sc;
  const std::string id = unique_name("avs");
  sc.env = "PINSTREAM_ID=" + id +
           " PINSTREAM_SOURCE=kinesis PINSTREAM_KINESIS_ENDPOINT=" + emu->endpoint() + " ";
  pid_t producer =
      spawn_shell(sc.env + pinstream_binary().string() +
                      " emulate --sink kinesis --partitions 2 --count 900 --rate 150/s",
                  sc.dir.path() / "emulate.log");
  // The first run may come before the streams are ACTIVE: it fails to list them (exit 1);
  // wait until a run succeeds with something read.
  std::string log;
  ASSERT_TRUE(wait_until(
      [&] {
        int rc = 0;
        log = sc.run_available_now(&rc);
        return rc == 0 && sc.stats(sc.data(), false)["streams"]["pin"].value("read", 0) > 0;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(200)))
      << log << read_file(sc.dir.path() / "emulate.log");
  // Kinesis ends are sequence numbers: each shard's committed position is its end.
  int during = run_while_producing(sc, producer, [](const auto& ends, const json& st) {
    for (const auto& [part, end] : ends)
      if (!end.empty() && end != "closed") {
        EXPECT_EQ(st["positions"][part], end) << part;
      }
  });
  (void)during;  // the first run above already read while the producer wrote
  int status = 0;
  ::waitpid(producer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << read_file(sc.dir.path() / "emulate.log");
  json st = sc.stats(sc.data());
  for (const char* s : kStreams) EXPECT_EQ(st["streams"][s]["read"], 900) << s;
  sc.expect_equal_to_clean_run();
}

}  // namespace
}  // namespace pinstream::testing
