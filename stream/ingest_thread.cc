#include "stream/ingest_thread.h"

#include <optional>

namespace pinstream::runtime {

IngestThread::IngestThread(Fill fill, size_t depth) : fill_(std::move(fill)) {
  // `depth` filled items may wait, one is being filled, one is being processed.
  for (size_t i = 0; i < depth + 2; ++i) {
    pool_.push_back(std::make_unique<IngestItem>());
    free_.push_back(pool_.back().get());
  }
}

IngestThread::~IngestThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IngestThread::start() {
  thread_ = std::thread([this] { loop(); });
}

void IngestThread::loop() {
  while (true) {
    IngestItem* item = nullptr;
    bool seal = false, park = false, hand_off = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Keep one free item back: the engine may hold one while this one is filled.
      cv_.wait(lock, [&] { return stop_ || (!pause_ && free_.size() > 1); });
      if (stop_) return;
      item = take_free();
      busy_ = true;
      seal = seal_;
      park = park_after_seal_;
      hand_off = hand_off_;
      seal_ = park_after_seal_ = hand_off_ = false;
    }
    if (reuse_wait_ && item->encoding.load() > 0) reuse_wait_(*item);
    item->reset();
    fill_(*item, seal);
    item->warm = true;
    if (item->seal) {
      item->seal->last = park;
      item->seal->hand_off = hand_off;
      item->seal->parked = item->seal->parked || hand_off;
    }
    bool failed = !item->error.is_ok();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (item->seal && (park || item->seal->parked)) pause_ = true;
      if (item->empty())
        free_.push_back(item);
      else
        filled_.push_back(item);
      busy_ = false;
      if (failed) stop_ = true;  // the engine sees the error and stops; nothing more is polled
    }
    cv_.notify_all();
    if (failed) return;
  }
}

// The item released last whose rows the encoder is done with: its buffers are the warmest.
// Else the warm item released first (its jobs were queued first, so they end first; the
// caller waits for them): an item never filled yet is taken only when no filled one is
// free, so that the encoder holding items back does not make the pool touch more memory.
IngestItem* IngestThread::take_free() {
  size_t at = free_.size() - 1;
  std::optional<size_t> oldest_warm;
  for (size_t i = free_.size(); i-- > 0;) {
    if (!free_[i]->warm) continue;
    if (free_[i]->encoding.load() == 0) {
      oldest_warm = i;
      break;
    }
    oldest_warm = i;  // the loop goes on towards the front: the first released wins
  }
  if (oldest_warm) at = *oldest_warm;
  IngestItem* item = free_[at];
  free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(at));
  return item;
}

IngestItem* IngestThread::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (filled_.empty() && timeout.count() > 0)
    cv_.wait_for(lock, timeout, [&] { return !filled_.empty(); });
  if (filled_.empty()) return nullptr;
  IngestItem* item = filled_.front();
  filled_.pop_front();
  return item;
}

void IngestThread::release(IngestItem* item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(item);
  }
  cv_.notify_all();
}

void IngestThread::pause() {
  std::unique_lock<std::mutex> lock(mu_);
  pause_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return !busy_; });
}

void IngestThread::request_seal(bool then_park) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    park_after_seal_ = (seal_ && park_after_seal_) || then_park;  // never undo a pending park
    seal_ = true;
  }
  cv_.notify_all();
}

void IngestThread::request_hand_off_seal() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    seal_ = hand_off_ = true;
  }
  cv_.notify_all();
}

void IngestThread::resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pause_ = false;
  }
  cv_.notify_all();
}

}  // namespace pinstream::runtime
