#include "tests/support/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "tests/support/test_support.h"

namespace pinstream::testing {

pid_t spawn_shell(const std::string& cmd, const std::filesystem::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string full = "exec " + cmd + " >'" + log.string() + "' 2>'" + log.string() + ".err'";
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Reaper::~Reaper() {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  wait_exit(pid);
}

int Reaper::wait() {
  int code = wait_exit(pid);
  pid = -1;
  return code;
}

std::optional<int> Reaper::exited() {
  int status = 0;
  if (pid <= 0 || ::waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
  pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string start_dev_broker(Reaper& reaper, const std::string& id, int partitions,
                             const std::filesystem::path& dir, int brokers) {
  reaper.pid = spawn_shell("env PINSTREAM_ID=" + id + " " + pinstream_binary().string() +
                               " broker --partitions " + std::to_string(partitions) +
                               " --brokers " + std::to_string(brokers),
                           dir / "broker.log");
  std::string out;
  if (!wait_until(
          [&] {
            out = read_file(dir / "broker.log");
            return out.find('\n') != std::string::npos;
          },
          std::chrono::seconds(20)))
    return "";
  return out.substr(0, out.find('\n'));
}

}  // namespace pinstream::testing
