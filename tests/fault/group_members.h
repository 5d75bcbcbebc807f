// What the scale-out fault tests (groups, handoff, peers) share: the default pipeline made a
// group of `tasks: partitions` members, and what a member's log says of its assignment.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/delta_reader.h"
#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {

// Replaces the first `from` in `yaml` by `to`; a test failure when `from` is absent (the
// default pipeline changed under the test).
inline void edit_yaml(std::string& yaml, const std::string& from, const std::string& to) {
  const size_t at = yaml.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the pipeline: " << from;
    return;
  }
  yaml.replace(at, from.size(), to);
}

// The default pipeline as members of one group run it: `tasks: partitions`, the group id
// from $TEST_GROUP, 200 ms epochs.
inline std::string group_pipeline_yaml() {
  std::string yaml = read_file(source_dir() / "examples/pinterest/pipeline.yaml");
  edit_yaml(yaml, "  # tasks: partitions", "  tasks: partitions");
  edit_yaml(yaml, "    group_id: pinstream-${PINSTREAM_ID:-pinterest}\n",
            "    group_id: ${TEST_GROUP}\n");
  edit_yaml(yaml, "epoch_interval_ms: 1000", "epoch_interval_ms: 200");
  return yaml;
}

// A short group session: a member gone without a word (kill -9, or a static member's close,
// which does not leave the group) loses its tasks after 3 s. Source properties reach
// librdkafka as they are.
inline void shorten_group_session(std::string& yaml) {
  edit_yaml(yaml, "    group_id: ${TEST_GROUP}\n",
            "    group_id: ${TEST_GROUP}\n    properties:\n      session.timeout.ms: 3000\n"
            "      heartbeat.interval.ms: 500\n");
}

// `pinstream emulate --sink kafka` of `count` posts from `seed`, with the variables `env`
// and the `extra` flags; a test failure with its output when it fails.
inline void emulate_into_kafka(const std::string& env, const std::filesystem::path& config,
                               int count, int seed, const std::string& extra) {
  std::string out;
  ASSERT_EQ(run_command(env + "TEST_GROUP=x " + pinstream_binary().string() +
                            " emulate --config '" + config.string() + "' --sink kafka " + extra +
                            " --count " + std::to_string(count) + " --seed " + std::to_string(seed),
                        &out),
            0)
      << out;
}

// The partitions count of the last assignment a member logged in `<log>.err` (-1: none yet).
inline int last_assigned(const std::filesystem::path& log) {
  const std::string text = read_file(log.string() + ".err"), key = "Kafka partitions assigned. ";
  size_t at = text.rfind(key);
  if (at == std::string::npos) return -1;
  at = text.find("count=", at);
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 6);
}

// A table compared between the members' shared tables and a clean single-process run.
struct ComparedTable {
  std::string table, columns, where;
};
// The tables every record lands in once (not the derived ones).
inline const std::vector<ComparedTable>& record_tables() {
  static const std::vector<ComparedTable> tables = {
      {"pin", "*", ""},
      {"geo", "*", ""},
      {"user", "*", ""},
      {"dead_letters", "stream, source, position, raw, reason", ""},
      {"late_records", "stream, source, position, key, event_time, watermark", ""}};
  return tables;
}

// A Delta table's rows (DuckDB, JSON, in order), "[]" when it has no file.
inline std::string table_rows(const std::filesystem::path& table, const std::string& columns,
                              const std::string& where = "") {
  DeltaSnapshot snap = read_delta_log(table);
  if (snap.files.empty()) return "[]";
  std::string js;
  EXPECT_EQ(duckdb_query(
                "SELECT " + columns + " FROM " + duckdb_scan(snap) + where + " ORDER BY ALL", &js),
            0)
      << js;
  return js;
}

// Whether every table of `compared` has the same rows under the roots `got` and `want`.
inline bool tables_equal(const std::filesystem::path& got, const std::filesystem::path& want,
                         const std::vector<ComparedTable>& compared) {
  for (const auto& c : compared)
    if (table_rows(got / c.table, c.columns, c.where) !=
        table_rows(want / c.table, c.columns, c.where))
      return false;
  return true;
}

// The rows of table_rows' JSON answer (flat objects), as text.
inline std::multiset<std::string> json_rows(const std::string& js) {
  std::multiset<std::string> out;
  size_t at = js.find('{');
  while (at != std::string::npos) {
    const size_t end = js.find("},{", at);
    out.insert(js.substr(at, end == std::string::npos ? js.rfind('}') + 1 - at : end + 1 - at));
    at = end == std::string::npos ? end : end + 2;
  }
  return out;
}

// Up to 5 rows of `a` that `b` lacks, one per line.
inline std::string rows_missing(const std::multiset<std::string>& a,
                                const std::multiset<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  std::string out = std::to_string(only.size()) + " rows";
  for (size_t i = 0; i < only.size() && i < 5; ++i) out += "\n  " + only[i].substr(0, 300);
  return out;
}

// The same as test expectations, each table's difference shown; `got`'s pin is not empty.
inline void expect_tables_equal(const std::filesystem::path& got, const std::filesystem::path& want,
                                const std::vector<ComparedTable>& compared) {
  for (const auto& c : compared) {
    const std::string g = table_rows(got / c.table, c.columns, c.where),
                      w = table_rows(want / c.table, c.columns, c.where);
    if (g == w) continue;
    const auto gr = json_rows(g), wr = json_rows(w);
    ADD_FAILURE() << c.table << ": " << gr.size() << " rows vs " << wr.size()
                  << " expected\nonly there: " << rows_missing(gr, wr)
                  << "\nmissing: " << rows_missing(wr, gr);
  }
  EXPECT_NE(table_rows(got / "pin", "*"), "[]");
}

// Members 1..3 of one group as a supervisor runs them: each with its own data directory and
// static instance id (`<id>-m<n>`), the tables root and checkpoint store shared. Each start
// logs to its own `m<n>-<start>.log`. A member that a rebalance stops (exit 1 naming the
// moved partitions it read) is started again by `supervise`, as systemd's
// Restart=on-failure would; any other exit is a test failure.
class GroupMembers {
 public:
  static constexpr int kMax = 3;
  // `env`: the variables every member shares (PINSTREAM_ID, PINSTREAM_KAFKA, TEST_GROUP,
  // PINSTREAM_TABLES, PINSTREAM_CHECKPOINTS...), as `NAME=value ` words.
  GroupMembers(std::filesystem::path dir, std::string env, std::filesystem::path config)
      : dir_(std::move(dir)), env_(std::move(env)), config_(std::move(config)) {}

  std::string env(int m) const {
    return env_ + "PINSTREAM_INSTANCE_ID=" + instance(m) + " PINSTREAM_DATA='" +
           (dir_ / ("m" + std::to_string(m))).string() + "' ";
  }
  std::string instance(int m) const { return dir_.filename().string() + "-m" + std::to_string(m); }
  void start(int m) {
    ++starts_[slot(m)];
    at(m).pid = spawn_shell(
        "env " + env(m) + pinstream_binary().string() + " run --config '" + config_.string() + "'",
        log(m));
  }
  bool running(int m) const { return at(m).pid > 0; }
  void signal(int m, int sig) const { ::kill(at(m).pid, sig); }
  int wait(int m) { return at(m).wait(); }
  // The log of member m's current (or last) start.
  std::filesystem::path log(int m) const {
    return dir_ / ("m" + std::to_string(m) + "-" + std::to_string(starts_[slot(m)]) + ".log");
  }
  std::string err(int m) const { return read_file(log(m).string() + ".err"); }
  // The last lines of every start's stderr: what a failed expectation shows.
  std::string errs() const {
    std::string out;
    for (int m = 1; m <= kMax; ++m)
      for (int s = 1; s <= starts_[slot(m)]; ++s) {
        std::string e =
            read_file(dir_ / ("m" + std::to_string(m) + "-" + std::to_string(s) + ".log.err"));
        if (e.size() > 3000) e = "..." + e.substr(e.size() - 3000);
        out += "--- m" + std::to_string(m) + " start " + std::to_string(s) + ":\n" + e;
      }
    return out;
  }
  // Partitions of member m's last assignment (-1: none logged by its current start).
  int assigned(int m) const { return running(m) ? last_assigned(log(m)) : -1; }
  // Every running member logged `partitions` assigned partitions.
  bool assigned_each(const std::vector<int>& members, int partitions) const {
    for (int m : members)
      if (assigned(m) != partitions) return false;
    return true;
  }
  // Restarts the members that a rebalance stopped; false (and a test failure) when one
  // stopped otherwise. `restarts` counts them.
  bool supervise() {
    for (int m = 1; m <= kMax; ++m) {
      if (at(m).pid <= 0) continue;
      auto code = at(m).exited();
      if (!code) continue;
      const std::string e = err(m);
      if (*code != 1 || e.find("moved partitions this process has read") == std::string::npos) {
        ADD_FAILURE() << "member " << m << " exited " << *code << ":\n" << e;
        return false;
      }
      ++restarts;
      start(m);
    }
    return true;
  }
  // SIGTERM to every running member; each must exit 0.
  void stop_all() {
    for (int m = 1; m <= kMax; ++m)
      if (running(m)) signal(m, SIGTERM);
    for (int m = 1; m <= kMax; ++m) {
      if (running(m)) {
        EXPECT_EQ(wait(m), 0) << "member " << m << "\n" << err(m);
      }
    }
  }
  // `pinstream query <args>` against member m's socket, its JSON answer.
  nlohmann::json ask(int m, const std::string& args) const {
    std::string out;
    run_command("env " + env_ + pinstream_binary().string() + " query " + args + " --socket '" +
                    (dir_ / ("m" + std::to_string(m)) / "pinstream.sock").string() +
                    "' --format json 2>/dev/null",
                &out, false);
    nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    return j.is_discarded() ? nlohmann::json{{"unparsed", out}} : j;
  }
  // `pinstream verify` of member m's data directory; its exit code, output in *out.
  int verify(int m, std::string* out) const {
    return run_command("env " + env(m) + pinstream_binary().string() + " verify --config '" +
                           config_.string() + "'",
                       out);
  }
  int restarts = 0;

 private:
  static size_t slot(int m) { return static_cast<size_t>(m - 1); }
  Reaper& at(int m) { return reapers_[slot(m)]; }
  const Reaper& at(int m) const { return reapers_[slot(m)]; }
  std::filesystem::path dir_;
  std::string env_;
  std::filesystem::path config_;
  std::array<Reaper, kMax> reapers_;
  std::array<int, kMax> starts_{};
};

}  // namespace pinstream::testing
