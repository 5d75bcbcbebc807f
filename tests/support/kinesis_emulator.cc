#include "tests/support/kinesis_emulator.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/support/loopback.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {

void set_fake_aws_credentials() {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDTESTPINSTREAM", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "test-secret", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
}

std::unique_ptr<KinesisEmulator> KinesisEmulator::start(KinesisEmulatorKind kind,
                                                        std::string* error) {
  const auto modules = node_tools_dir() / "node_modules";
  const int port = free_port();
  const std::string p = std::to_string(port);
  std::string dir, script;
  std::vector<std::string> args = {"node"};
  std::vector<std::string> env;
  if (kind == KinesisEmulatorKind::kKinesalite) {
    dir = (modules / "kinesalite").string();
    args.insert(args.end(), {"cli.js", "--port", p, "--host", "127.0.0.1", "--createStreamMs", "50",
                             "--updateStreamMs", "50", "--deleteStreamMs", "50"});
  } else {
    dir = (modules / "kinesis-local").string();
    args.push_back("main.js");
    env = {"KINESIS_MOCK_PLAIN_PORT=" + p,
           "KINESIS_MOCK_TLS_PORT=" + std::to_string(free_port()),
           "LOG_LEVEL=ERROR",
           "CREATE_STREAM_DURATION=50ms",
           "UPDATE_SHARD_COUNT_DURATION=50ms",
           "SPLIT_SHARD_DURATION=50ms",
           "MERGE_SHARDS_DURATION=50ms"};
  }
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  pid_t pid = spawn_detached(args, dir, env);
  if (pid < 0) {
    *error = "fork failed";
    return nullptr;
  }
  std::unique_ptr<KinesisEmulator> emu(new KinesisEmulator(pid, port));
  bool up = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          emu->pid_ = -1;
          return true;
        }
        return port_open(port);
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50));
  if (!up || emu->pid_ < 0) {
    *error = "the Kinesis emulator in " + dir + " did not start on port " + p;
    return nullptr;
  }
  set_fake_aws_credentials();
  return emu;
}

KinesisEmulator::~KinesisEmulator() { stop_detached(pid_); }

}  // namespace pinstream::testing
