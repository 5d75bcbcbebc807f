#include "connectors/delta/checkpointer.h"

#include <spdlog/spdlog.h>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/log_cleanup.h"

namespace pinstream::connectors::delta {

Checkpointer::Checkpointer(std::shared_ptr<objstore::ObjectStore> table, bool background)
    : table_(std::move(table)) {
  if (background) thread_ = std::thread([this] { loop(); });
}

Checkpointer::~Checkpointer() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Checkpointer::submit(const Snapshot& snap) {
  if (!thread_.joinable()) {
    write(snap);
    return;
  }
  auto copy = std::make_unique<Snapshot>(snap);  // outside the lock: it is the costly part
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_ = std::move(copy);
  }
  cv_.notify_all();
}

void Checkpointer::wait_idle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !waiting_ && !busy_; });
}

int64_t Checkpointer::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

void Checkpointer::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || waiting_; });
    if (!waiting_) return;  // stopping, nothing left to write
    std::unique_ptr<Snapshot> snap = std::move(waiting_);
    busy_ = true;
    lock.unlock();
    write(*snap);
    snap.reset();
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void Checkpointer::write(const Snapshot& snap) {
  core::Status st = write_checkpoint(*table_, snap);
  if (!st.is_ok()) {
    spdlog::warn(
        "Delta checkpoint not written; the next one is tried. table={} version={} error={}",
        table_->describe(), snap.version, st.to_string());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++written_;
  }
  const int64_t keep =
      table_interval_ms(snap, "delta.logRetentionDuration", kDefaultLogRetentionMs);
  const int64_t now = now_ms();
  if (oldest_kept_ms_ >= 0 && oldest_kept_ms_ >= now - keep) return;  // nothing expired yet
  auto done = clean_log(*table_, snap.version, keep, now);  // best effort: retried next time
  oldest_kept_ms_ = done ? done->oldest_kept_ms : -1;
}

}  // namespace pinstream::connectors::delta
