// The daemon as users run it live: the embedded demo, the Kafka path through the dev broker
// (records produced with kcat), restarts that resume from stored offsets, and live queries
// over the socket that equal the offline answers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/expected_pipeline.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

pid_t spawn(const std::string& cmd, const fs::path& out, const fs::path& err) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string full = "exec " + cmd + " >'" + out.string() + "' 2>'" + err.string() + "'";
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int stop(pid_t pid, int sig = SIGTERM) {
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json stats(const std::string& env, const std::string& where) {
  std::string out;
  run_command(env + pinstream_binary().string() + " query " + where + " --stats", &out, false);
  return json::parse(out, nullptr, false);
}

const char* kSetViews[] = {
    "most_popular_category_by_country",   "category_count_by_year",
    "most_popular_category_by_year",      "most_followed_user_by_country",
    "country_with_most_followed_user",    "most_popular_category_by_age_group",
    "median_follower_count_by_age_group", "users_joined_by_year",
    "median_follower_count_by_join_year", "median_follower_count_by_age_group_and_join_year"};

TEST(Demo, RunWithoutConfigPostsDrainsAndAnswers) {
  TempDir dir("ps-demo");
  std::string env = "PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  std::string out;
  ASSERT_EQ(run_command("cd '" + dir.path().string() + "' && " + env + pinstream_binary().string() +
                            " run --until-idle",
                        &out),
            0)
      << out;
  json s =
      stats(env, "--config '" + (source_dir() / "examples/pinterest/pipeline.yaml").string() + "'");
  ASSERT_TRUE(s.is_object()) << s.dump();
  for (const char* stream : {"pin", "geo", "user"}) {
    const json& c = s["streams"][stream];
    EXPECT_EQ(c["read"], 500) << stream;
    EXPECT_EQ(c["read"].get<int64_t>(), c["clean"].get<int64_t>() + c["dead"].get<int64_t>() +
                                            c["duplicates"].get<int64_t>());
    EXPECT_GT(c["duplicates"].get<int64_t>(), 0);
  }
  // A second demo run starts fresh in the directory it owns.
  ASSERT_EQ(run_command("cd '" + dir.path().string() + "' && " + env + pinstream_binary().string() +
                            " run --until-idle",
                        &out),
            0)
      << out;
  // It refuses a directory it did not create.
  write_file(dir.path() / "other/keep.txt", "precious");
  EXPECT_EQ(run_command("PINSTREAM_DATA='" + (dir.path() / "other").string() + "' " +
                            pinstream_binary().string() + " run --until-idle",
                        &out),
            2);
  EXPECT_EQ(read_file(dir.path() / "other/keep.txt"), "precious");
}

struct Broker {
  TempDir dir{"ps-kafka"};
  pid_t pid = -1;
  std::string bootstrap;
  explicit Broker(int brokers = 1) {
    pid = spawn(
        pinstream_binary().string() + " broker --partitions 3 --brokers " + std::to_string(brokers),
        dir.path() / "out", dir.path() / "err");
    EXPECT_TRUE(
        wait_until([&] { return read_file(dir.path() / "out").find('\n') != std::string::npos; },
                   std::chrono::seconds(20)));
    bootstrap = read_file(dir.path() / "out");
    bootstrap = bootstrap.substr(0, bootstrap.find('\n'));
  }
  ~Broker() { stop(pid); }
  // Produces every raw line of the S3-sink input with kcat, keyed by its partition file's key.
  void produce_from(const fs::path& raw, int part_of_two) {
    for (const char* s : {"pin", "geo", "user"}) {
      std::string topic = std::string("pinterest.") + s;
      std::string keyed;
      for (int p = 0; p < 3; ++p) {
        std::vector<fs::path> files;
        for (const auto& e :
             fs::directory_iterator(raw / "topics" / topic / ("partition=" + std::to_string(p))))
          files.push_back(e.path());
        std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
          return a.string().size() != b.string().size() ? a.string().size() < b.string().size()
                                                        : a < b;
        });
        for (const auto& f : files)
          for (const auto& line : read_lines(f)) keyed += std::to_string(p) + "\t" + line + "\n";
      }
      // Split in two halves for the restart test (part 0: first half, 1: second, -1: all).
      std::vector<std::string> lines;
      size_t start = 0, nl;
      while ((nl = keyed.find('\n', start)) != std::string::npos) {
        lines.push_back(keyed.substr(start, nl - start));
        start = nl + 1;
      }
      size_t half = lines.size() / 2;
      std::string chunk;
      for (size_t i = 0; i < lines.size(); ++i)
        if (part_of_two < 0 || (part_of_two == 0) == (i < half)) chunk += lines[i] + "\n";
      write_file(dir.path() / "in.txt", chunk);
      std::string out;
      ASSERT_EQ(run_command("kcat -b " + bootstrap + " -P -t " + topic + " -K '\t' -l '" +
                                (dir.path() / "in.txt").string() + "'",
                            &out),
                0)
          << out;
    }
  }
};

void expect_matches_model(const ExpectedPipeline& model, const std::string& env,
                          const std::string& config) {
  json s = stats(env, "--config '" + config + "'");
  ASSERT_TRUE(s.is_object());
  for (const auto& [name, c] : model.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["clean"], c.clean) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
  }
  for (const char* v : kSetViews) {
    std::string out;
    ASSERT_EQ(run_command(env + pinstream_binary().string() + " query --config '" + config + "' " +
                              v + " --format json",
                          &out, false),
              0)
        << out;
    EXPECT_EQ(json::parse(out)["rows"], model.view(v)) << v;
  }
}

TEST(Kafka, RecordsProducedWithKcatMatchTheModelAndARestartResumesFromStoredOffsets) {
  Broker broker(3);  // partition leaders spread over three brokers, as on MSK
  ASSERT_FALSE(broker.bootstrap.empty()) << read_file(broker.dir.path() / "err");
  ExpectedPipeline model;
  model.write_input(broker.dir.path() / "raw", 700);
  // A restarted member rejoins the group only after the old session expires (the mock
  // cluster does not process LeaveGroup): keep the session short in this test.
  std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
  const std::string anchor = "    group_id: pinstream-${PINSTREAM_ID:-pinterest}\n";
  size_t at = yaml.find(anchor);
  ASSERT_NE(at, std::string::npos);
  yaml.insert(at + anchor.size(),
              "    properties: {session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\"}\n");
  write_file(broker.dir.path() / "pipeline.yaml", yaml);
  std::string config = (broker.dir.path() / "pipeline.yaml").string();
  std::string env = "PINSTREAM_SOURCE=kafka PINSTREAM_KAFKA=" + broker.bootstrap +
                    " PINSTREAM_DATA='" + (broker.dir.path() / "data").string() + "' ";
  broker.produce_from(broker.dir.path() / "raw", 0);
  std::string out;
  ASSERT_EQ(
      run_command(env + pinstream_binary().string() + " run --config '" + config + "' --until-idle",
                  &out),
      0)
      << out;
  json half = stats(env, "--config '" + config + "'");
  int64_t read_half = half["streams"]["pin"]["read"].get<int64_t>();
  EXPECT_GT(read_half, 0);
  EXPECT_LT(read_half, model.counters["pin"].read);
  broker.produce_from(broker.dir.path() / "raw", 1);
  ASSERT_EQ(
      run_command(env + pinstream_binary().string() + " run --config '" + config + "' --until-idle",
                  &out),
      0)
      << out;
  expect_matches_model(model, env, config);
  // Offsets were also committed to Kafka, so lag tools see the group's progress.
  out.clear();  // run_command appends
  ASSERT_EQ(run_command("kcat -b " + broker.bootstrap + " -L -J", &out, false), 0);
  // The cluster really had three brokers, and the records came from more than one leader.
  json md = json::parse(out);
  EXPECT_EQ(md["brokers"].size(), 3u) << out;
  std::set<int> leaders;
  for (const auto& t : md["topics"])
    for (const auto& p : t["partitions"]) leaders.insert(p["leader"].get<int>());
  EXPECT_GE(leaders.size(), 2u) << out;
}

TEST(Kafka, SigtermAfterTheBrokerIsGoneExitsInBoundedTimeAndARestartEndsCorrect) {
  TempDir dir("ps-kafka-gone");
  ExpectedPipeline model;
  model.write_input(dir.path() / "raw", 300);
  const std::string config = (source_dir() / "examples/pinterest/pipeline.yaml").string();
  const std::string data = "PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  auto broker = std::make_unique<Broker>();
  ASSERT_FALSE(broker->bootstrap.empty()) << read_file(broker->dir.path() / "err");
  broker->produce_from(dir.path() / "raw", -1);
  const std::string env =
      "PINSTREAM_SOURCE=kafka PINSTREAM_KAFKA=" + broker->bootstrap + " " + data;
  const fs::path out = dir.path() / "daemon.out", err = dir.path() / "daemon.err";
  pid_t daemon = spawn(
      "env " + env + pinstream_binary().string() + " run --config '" + config + "'", out, err);
  ASSERT_TRUE(wait_until(
      [&] {
        json s = stats(env, "--config '" + config + "'");
        return s.is_object() && s["streams"]["pin"]["read"] == model.counters["pin"].read;
      },
      std::chrono::seconds(60)))
      << read_file(err);
  broker.reset();  // the broker and its data are gone
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(stop(daemon), 0) << read_file(err);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(15))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_NE(read_file(err).find("Kafka consumer group could not be left"), std::string::npos)
      << read_file(err);
  // A new broker holding the same data: the restart resumes from the stored offsets.
  Broker again;
  ASSERT_FALSE(again.bootstrap.empty()) << read_file(again.dir.path() / "err");
  again.produce_from(dir.path() / "raw", -1);
  const std::string env2 = "PINSTREAM_SOURCE=kafka PINSTREAM_KAFKA=" + again.bootstrap + " " + data;
  std::string log;
  ASSERT_EQ(
      run_command(
          env2 + pinstream_binary().string() + " run --config '" + config + "' --until-idle", &log),
      0)
      << log;
  expect_matches_model(model, env2, config);
}

TEST(Kafka, TheDevBrokerRefusesABadBrokerCount) {
  std::string out;
  EXPECT_EQ(run_command(pinstream_binary().string() + " broker --brokers 0", &out), 2);
  EXPECT_NE(out.find("--brokers must be between 1 and 16"), std::string::npos) << out;
}

TEST(Kafka, TheRawArchiveRebuildsEverythingThroughTheFilesSourceOnceKafkaHasForgotten) {
  ExpectedPipeline model;
  TempDir dir("ps-archive");
  std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
  const std::string line = "    archive: {root: \"" + (dir.path() / "archive").string() + "\"}\n";
  for (size_t at = 0; (at = yaml.find("\n    key: ind\n", at)) != std::string::npos;) {
    yaml.insert(at + 1, line);
    at += 1 + line.size() + 12;
  }
  write_file(dir.path() / "pipeline.yaml", yaml);
  const std::string config = (dir.path() / "pipeline.yaml").string();
  std::string out;
  {
    Broker broker;
    ASSERT_FALSE(broker.bootstrap.empty()) << read_file(broker.dir.path() / "err");
    model.write_input(broker.dir.path() / "raw", 500);
    broker.produce_from(broker.dir.path() / "raw", -1);
    std::string env = "PINSTREAM_SOURCE=kafka PINSTREAM_KAFKA=" + broker.bootstrap +
                      " PINSTREAM_DATA='" + (dir.path() / "kafka-data").string() + "' ";
    ASSERT_EQ(run_command(
                  env + pinstream_binary().string() + " run --config '" + config + "' --until-idle",
                  &out),
              0)
        << out;
    expect_matches_model(model, env, config);
  }  // the broker and everything it held are gone
  // Kafka offsets name the files, as MSK Connect's S3 sink does: each partition's first file
  // starts at offset 0 (kcat's keys put the records in some of the 3 partitions).
  for (const char* s : {"pin", "geo", "user"}) {
    const std::string topic = std::string("pinterest.") + s;
    int first_files = 0;
    for (int p = 0; p < 3; ++p)
      first_files +=
          fs::exists(dir.path() / "archive/topics" / topic / ("partition=" + std::to_string(p)) /
                     (topic + "+" + std::to_string(p) + "+0.json"));
    EXPECT_GT(first_files, 0) << topic;
  }
  // Reading the archive back with a pipeline that archives into it is refused (exit 2) ...
  std::string env = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "archive").string() +
                    "' PINSTREAM_DATA='" + (dir.path() / "files-data").string() + "' ";
  EXPECT_EQ(
      run_command(env + pinstream_binary().string() + " run --config '" + config + "' --until-idle",
                  &out),
      2)
      << out;
  EXPECT_NE(out.find("archive"), std::string::npos) << out;
  // ... the default pipeline (no archive) rebuilds everything from it.
  const std::string plain = (source_dir() / "examples/pinterest/pipeline.yaml").string();
  ASSERT_EQ(
      run_command(env + pinstream_binary().string() + " run --config '" + plain + "' --until-idle",
                  &out),
      0)
      << out;
  expect_matches_model(model, env, plain);
}

TEST(LiveQueries, SocketAnswersEqualOfflineAnswersAndSigtermExitsCleanly) {
  TempDir dir("ps-live");
  ExpectedPipeline model;
  model.write_input(dir.path() / "raw", 400);
  std::string config = (source_dir() / "examples/pinterest/pipeline.yaml").string();
  std::string env = "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + (dir.path() / "raw").string() +
                    "' PINSTREAM_DATA='" + (dir.path() / "data").string() + "' ";
  pid_t pid = spawn("env " + env + pinstream_binary().string() + " run --config '" + config + "'",
                    dir.path() / "out", dir.path() / "err");
  std::string sock = (dir.path() / "data/pinstream.sock").string();
  ASSERT_TRUE(wait_until(
      [&] {
        json s = stats("", "--socket '" + sock + "'");
        return s.is_object() && s.value("ok", false) &&
               s["streams"]["pin"]["read"] == model.counters["pin"].read;
      },
      std::chrono::seconds(60)))
      << read_file(dir.path() / "err");
  std::map<std::string, std::string> live;
  for (const char* v : kSetViews) {
    std::string out;
    ASSERT_EQ(run_command(pinstream_binary().string() + " query --socket '" + sock + "' " + v +
                              " --format json",
                          &out, false),
              0)
        << out;
    live[v] = json::parse(out)["rows"].dump();
    EXPECT_EQ(json::parse(out)["rows"], model.view(v)) << v;
  }
  // Stats carry each stream's lag (files: unread bytes, 0 once read to the end); metrics
  // carry the epoch and commit latency histograms and the state size.
  json st = stats("", "--socket '" + sock + "'");
  EXPECT_EQ(st["lag_unit"], "bytes");
  for (const char* s : {"pin", "geo", "user"}) EXPECT_EQ(st["streams"][s]["lag"], 0) << s;
  std::string metrics;
  ASSERT_EQ(run_command(pinstream_binary().string() + " query --socket '" + sock + "' --metrics",
                        &metrics, false),
            0);
  for (const char* m :
       {"pinstream_epoch_duration_seconds_count ",
        "pinstream_commit_duration_seconds_bucket{le=\"+Inf\"}",
        "pinstream_source_lag{stream=\"pin\",unit=\"bytes\"} 0", "pinstream_state_bytes "})
    EXPECT_NE(metrics.find(m), std::string::npos) << m << "\n" << metrics;
  // Idle (everything read), the daemon waits instead of spinning: under 20% of a core.
  auto cpu_ticks = [&] {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    return utime + stime;
  };
  long long before = cpu_ticks();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_LT(cpu_ticks() - before, ::sysconf(_SC_CLK_TCK) * 2 / 5)
      << "an idle daemon must not busy-wait";
  std::string list;
  ASSERT_EQ(run_command(pinstream_binary().string() + " query --socket '" + sock + "' --list",
                        &list, false),
            0);
  EXPECT_NE(list.find("category_count_by_hour"), std::string::npos);
  EXPECT_EQ(stop(pid, SIGTERM), 0) << read_file(dir.path() / "err");
  EXPECT_FALSE(fs::exists(sock)) << "the socket is removed on exit";
  for (const char* v : kSetViews) {
    std::string out;
    ASSERT_EQ(run_command(env + pinstream_binary().string() + " query --config '" + config + "' " +
                              v + " --format json",
                          &out, false),
              0)
        << out;
    EXPECT_EQ(json::parse(out)["rows"].dump(), live[v]) << v;
  }
}

}  // namespace
}  // namespace pinstream::testing
