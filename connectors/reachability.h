// Whether a remote source (a Kafka cluster, a Kinesis endpoint) answers, and when to give up
// on it: a source that stays unreachable for its connect timeout fails the run with one line
// naming the endpoint instead of retrying (and logging) forever. Time is passed in, so tests
// drive it by hand. Not thread-safe: owned by the source, on the polling thread.
#pragma once

#include <chrono>
#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors {

class Reachability {
 public:
  using Clock = std::chrono::steady_clock;

  // `what` names the endpoint ("Kafka at 127.0.0.1:9092"), `fix` says what to check.
  Reachability(std::string what, std::string fix, std::chrono::milliseconds timeout)
      : what_(std::move(what)), fix_(std::move(fix)), timeout_(timeout) {}

  // open(): nothing has answered yet; the connect timeout runs from `now`.
  void start(Clock::time_point now) {
    down_ = true;
    down_since_ = now;
  }
  // The endpoint answered (a record, an empty answer, a group event, a probe).
  void answered() {
    ever_ = true;
    down_ = false;
  }
  // A call got no answer (refused, timed out, name not resolved); `error` says why.
  void failed(Clock::time_point now, std::string error) {
    if (!down_) down_since_ = now;
    down_ = true;
    last_error_ = std::move(error);
  }

  bool down() const { return down_; }
  bool ever_answered() const { return ever_; }
  const std::string& last_error() const { return last_error_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // True once the endpoint has been down for the whole connect timeout.
  bool timed_out(Clock::time_point now) const { return down_ && now - down_since_ >= timeout_; }

  // IoError "<what> unreachable for <timeout>: <last error>; <fix>" when timed out and either
  // nothing ever answered (a typo, a cluster that is not there) or the run is `bounded`
  // (--until-idle must end, and must not end as drained with data unread). OK otherwise: an
  // unbounded daemon that once reached its source keeps retrying, as Kafka clients do.
  core::Status check(Clock::time_point now, bool bounded) const {
    if (!timed_out(now) || (ever_ && !bounded)) return core::Status::ok();
    return core::Status::io(describe() + "; " + fix_);
  }

  // "<what> unreachable for 30 s: <last error>".
  std::string describe() const {
    const auto ms = timeout_.count();
    std::string span =
        ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    return what_ + " unreachable for " + span + ": " +
           (last_error_.empty() ? std::string("no answer") : last_error_);
  }

 private:
  std::string what_, fix_;
  std::chrono::milliseconds timeout_;
  bool down_ = false, ever_ = false;
  Clock::time_point down_since_{};
  std::string last_error_;
};

}  // namespace pinstream::connectors
