// Answers the query server's thread must not wait for (SPEC section 9): a shared
// pipeline's merged view answers, which fetch every live peer's partials and so may take up
// to the peer deadline (PeerAccess::timeout_ms) when a peer hangs. They run on a few threads
// of their own; the serving thread hands a request over, goes on serving its other clients,
// and is woken (its eventfd) when the answer is ready. Bounded: past `max_waiting` requests
// handed over and not yet answered, submit refuses (the caller answers "busy").
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinstream::runtime {

class DeferredAnswers {
 public:
  struct Done {
    int fd = -1;
    uint64_t conn = 0;  // the connection's serial: a closed fd's number may be taken again
    std::string out;    // bytes to send
    bool close_after = false;
  };
  // `wake_fd`: an eventfd written once per finished answer.
  DeferredAnswers(int wake_fd, size_t threads = 4, size_t max_waiting = 256);
  ~DeferredAnswers();  // waits for the answers being computed, drops the queued ones

  // Runs `compute` on a worker; false when max_waiting answers are already waiting.
  bool submit(int fd, uint64_t conn, bool close_after, std::function<std::string()> compute);
  // The answers finished since the last call.
  std::vector<Done> take();

 private:
  struct Job {
    Done done;
    std::function<std::string()> compute;
  };
  void work();

  int wake_fd_;
  size_t max_waiting_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<Done> finished_;
  size_t waiting_ = 0;  // submitted, not yet taken
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace pinstream::runtime
