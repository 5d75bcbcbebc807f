// Computes every view's default answer (no params) once per committed epoch, on its own
// thread, before queries see that epoch. Without it the first request after a commit
// computes the view on the query server's single event-loop thread while every other
// client waits behind it (bench/query/ingesting.sh: up to ~3 ms at 16 clients).
//
// Queries read `current()`: the newest committed epoch whose default answers are in the
// cache. An epoch therefore becomes visible to queries a few milliseconds after its commit
// (the views' computation), never partially: stats, views and metrics of one answer still
// come from one committed epoch. Requests with params are computed on demand as before.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "stream/committed_view.h"
#include "stream/query/handler.h"

namespace pinstream::runtime {

class ViewWarmer {
 public:
  // `source`: the engine's last committed epoch (polled every `poll`); `views` may be null.
  ViewWarmer(std::function<CommittedView()> source, const state::Views* views,
             std::shared_ptr<AnswerCache> cache,
             std::chrono::milliseconds poll = std::chrono::milliseconds(5));
  ~ViewWarmer();
  ViewWarmer(const ViewWarmer&) = delete;
  ViewWarmer& operator=(const ViewWarmer&) = delete;

  // The newest committed epoch whose default view answers are cached.
  CommittedView current() const;
  // Computes the answers of `v` into the cache and makes it current (the thread's step; a
  // test calls it directly).
  void warm(CommittedView v);

 private:
  void loop();

  std::function<CommittedView()> source_;
  const state::Views* views_;
  std::shared_ptr<AnswerCache> cache_;
  std::chrono::milliseconds poll_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  bool has_current_ = false;
  CommittedView current_;
  std::thread thread_;
};

}  // namespace pinstream::runtime
