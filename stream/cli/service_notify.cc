#include "stream/cli/service_notify.h"

#include <chrono>
#include <cstdint>

#ifdef PINSTREAM_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace pinstream::cli {

ServiceNotifier::~ServiceNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void ServiceNotifier::ready() {
#ifdef PINSTREAM_HAVE_SYSTEMD
  sd_notify(0, "READY=1\nSTATUS=processing");
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0 || watchdog_.joinable()) return;
  const auto every = std::chrono::microseconds(static_cast<int64_t>(usec / 2));
  watchdog_ = std::thread([this, every] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, every, [this] { return stop_; })) sd_notify(0, "WATCHDOG=1");
  });
#endif
}

void ServiceNotifier::stopping() {
#ifdef PINSTREAM_HAVE_SYSTEMD
  sd_notify(0, "STOPPING=1");
#endif
}

}  // namespace pinstream::cli
