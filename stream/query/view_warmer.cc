#include "stream/query/view_warmer.h"

#include <spdlog/spdlog.h>

#include "state/views.h"

namespace pinstream::runtime {

ViewWarmer::ViewWarmer(std::function<CommittedView()> source, const state::Views* views,
                       std::shared_ptr<AnswerCache> cache, std::chrono::milliseconds poll)
    : source_(std::move(source)), views_(views), cache_(std::move(cache)), poll_(poll) {
  warm(source_());  // queries never see "nothing committed" while an epoch is committed
  thread_ = std::thread([this] { loop(); });
}

ViewWarmer::~ViewWarmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CommittedView ViewWarmer::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ViewWarmer::warm(CommittedView v) {
  if (v.reader && views_ && cache_) {
    QueryContext ctx;
    ctx.views = views_;
    ctx.cache = cache_;
    ctx.committed = [&v] { return v; };
    for (const std::string& name : views_->names()) {
      auto line = view_json(ViewRequest{name, {}}, ctx);  // cached inside; errors as well
      if (!line) spdlog::debug("view {} not warmed: {}", name, line.error().message());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!has_current_ || v.epoch >= current_.epoch) {
    current_ = std::move(v);
    has_current_ = true;
  }
}

void ViewWarmer::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    stop_cv_.wait_for(lock, poll_, [this] { return stop_; });
    if (stop_) break;
    int64_t shown = current_.epoch;
    bool shown_reader = current_.reader != nullptr;
    lock.unlock();
    CommittedView v = source_();
    if (v.epoch != shown || (v.reader != nullptr) != shown_reader) warm(std::move(v));
    lock.lock();
  }
}

}  // namespace pinstream::runtime
