// Processes a test starts in the background (a daemon, the dev broker) and is sure to stop.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace pinstream::testing {

// Runs `cmd` through /bin/sh in the background, stdout to `log`, stderr to `log`.err.
pid_t spawn_shell(const std::string& cmd, const std::filesystem::path& log);

// The exit code of `pid` once it ended (-1 when a signal ended it).
int wait_exit(pid_t pid);

// Kills a spawned process (SIGKILL) when the test ends, even through a failed ASSERT.
struct Reaper {
  pid_t pid = -1;
  Reaper() = default;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();
  // Waits for the process to end; its exit code.
  int wait();
  // The exit code once the process ended by itself, else nullopt (does not wait).
  std::optional<int> exited();
};

// Starts the dev broker (`pinstream broker --partitions N --brokers B`, PINSTREAM_ID=id) into
// `reaper`, its output in dir/broker.log: its bootstrap servers, or "" when it printed none
// in 20 s.
std::string start_dev_broker(Reaper& reaper, const std::string& id, int partitions,
                             const std::filesystem::path& dir, int brokers = 1);

}  // namespace pinstream::testing
