// A daemon of the default pipeline with its HTTP server on a free loopback port, fed an
// S3-sink input of real posts (with duplicates and malformed records) through the files
// source; for the HTTP API and dashboard tests. Waits until every record is committed.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/loopback.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {

struct HttpDaemonOptions {
  std::string listen = "127.0.0.1:0";  // host:port (port 0: a free one)
  std::string token;                   // replaces ${PINSTREAM_HTTP_TOKEN} when not empty
  int epoch_records = 0;               // > 0: epochs of that many raw records
  bool input_later = false;            // the input appears only at release_input()
};

class HttpDaemon {
 public:
  // `posts` keys of the shared data.
  explicit HttpDaemon(size_t posts, HttpDaemonOptions o = HttpDaemonOptions())
      : run_("ps-http-e2e", o.epoch_records, 1000) {
    model_.write_input(o.input_later ? run_.dir().path() / "staged" : run_.raw(), posts);
    if (o.input_later) std::filesystem::create_directories(run_.raw());
    run_.edit_config("listen: ${PINSTREAM_HTTP:-}", "listen: \"" + o.listen + "\"");
    if (!o.token.empty())
      run_.edit_config("token: ${PINSTREAM_HTTP_TOKEN:-}", "token: \"" + o.token + "\"");
    log_ = run_.dir().path() / "daemon.log";
    pid_ = run_.spawn("", log_);
    wait_until([&] { return port_from_log() > 0 || exited(); }, std::chrono::seconds(30));
    port_ = port_from_log();
  }
  // Moves the staged input into place at once (HttpDaemonOptions::input_later).
  void release_input() const {
    std::filesystem::rename(run_.dir().path() / "staged" / "topics", run_.raw() / "topics");
  }
  ~HttpDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  int port() const { return port_; }
  const PipelineRun& run() const { return run_; }
  const ExpectedPipeline& model() const { return model_; }
  std::string log() const { return read_file(log_); }
  std::string socket() const { return (run_.data() / "pinstream.sock").string(); }

  // Waits until every input record is counted in a committed epoch.
  bool wait_drained() const {
    return wait_until(
        [&] {
          nlohmann::json s = socket_stats();
          if (!s.is_object() || !s.contains("streams")) return false;
          for (const auto& [name, c] : model_.counters)
            if (!s["streams"].contains(name) || s["streams"][name]["read"] != c.read) return false;
          return true;
        },
        std::chrono::seconds(60));
  }

  nlohmann::json socket_stats() const {
    std::string out;
    run_command(pinstream_binary().string() + " query --socket '" + socket() + "' --stats", &out,
                false);
    return nlohmann::json::parse(out, nullptr, false);
  }
  // `pinstream query --socket ... <view> --format <format>`: the socket's answer.
  std::string socket_answer(const std::string& view, const std::string& format = "json",
                            const std::string& extra = "") const {
    std::string out;
    run_command(pinstream_binary().string() + " query --socket '" + socket() + "' " + view +
                    " --format " + format + " " + extra,
                &out, false);
    return out;
  }
  // GET `path` from the HTTP server: the whole response.
  std::string get(const std::string& path, const std::string& headers = "") const {
    return http_forward(port_,
                        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
  }
  static std::string body(const std::string& response) {
    size_t at = response.find("\r\n\r\n");
    return at == std::string::npos ? "" : response.substr(at + 4);
  }

 private:
  bool exited() const { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }
  int port_from_log() const {
    std::smatch m;
    std::string text = read_file(log_);
    static const std::regex re("HTTP server listening\\. address=\\S+ port=(\\d+)");
    return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
  }

  PipelineRun run_;
  ExpectedPipeline model_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace pinstream::testing
