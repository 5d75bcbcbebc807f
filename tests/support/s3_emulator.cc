#include "tests/support/s3_emulator.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/support/loopback.h"

namespace pinstream::testing {

void set_s3rver_environment(const std::string& endpoint) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_ENDPOINT_URL_S3", endpoint.c_str(), 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
}

std::unique_ptr<S3Emulator> S3Emulator::start(const std::vector<std::string>& buckets,
                                              std::string* error) {
  std::unique_ptr<S3Emulator> emu(new S3Emulator());
  emu->port_ = free_port();
  const std::string script =
      (node_tools_dir() / "node_modules" / "s3rver" / "bin" / "s3rver.js").string();
  // s3rver 3.7.1 makes list continuation tokens with DES, which Node >= 17 (OpenSSL 3)
  // refuses unless the legacy provider is loaded.
  std::vector<std::string> args = {"node",
                                   "--openssl-legacy-provider",
                                   script,
                                   "--directory",
                                   (emu->dir_ / "data").string(),
                                   "--address",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(emu->port_),
                                   "--silent"};
  for (const auto& b : buckets) args.insert(args.end(), {"--configure-bucket", b});
  pid_t pid = spawn_detached(args);
  if (pid < 0) {
    *error = "fork failed";
    return nullptr;
  }
  emu->pid_ = pid;
  bool exited = false;
  bool up = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          return true;
        }
        return port_open(emu->port_);
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50));
  if (exited) emu->pid_ = -1;
  if (!up || exited) {
    *error = "s3rver (" + script + ") did not start on port " + std::to_string(emu->port_) +
             "; run scripts/setup";
    return nullptr;
  }
  return emu;
}

bool S3Emulator::create_bucket(const std::string& name) {
  std::string out;
  return run_command("curl -sf -X PUT " + endpoint() + "/" + name, &out) == 0;
}

S3Emulator::~S3Emulator() { stop_detached(pid_); }

}  // namespace pinstream::testing
