// The daemon under systemd (Type=notify, examples/systemd/pinstream.service): READY=1 once
// the pipeline is open and the query socket listens, STOPPING=1 on the way out, and
// WATCHDOG=1 pings at half of WatchdogSec when the unit sets one. The pings come from a
// thread of their own, so they tell systemd the process is alive and scheduled, not that
// records flow (a source that stays unreachable fails the run by itself). Without
// libsystemd at build time, or outside systemd (no NOTIFY_SOCKET), every call does nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace pinstream::cli {

class ServiceNotifier {
 public:
  ServiceNotifier() = default;
  ~ServiceNotifier();  // stops the watchdog thread
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // READY=1, and starts the watchdog pings when systemd asked for them.
  void ready();
  // STOPPING=1 (systemd then waits for the exit instead of expecting pings).
  void stopping();

 private:
  std::thread watchdog_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace pinstream::cli
