// The daemon's side of `pinstream redrive`: the configured source wrapped so that dead
// letters queued by a redrive request (from the query socket's thread) are handed out by the
// ingest thread between polls, in whatever epoch is open, with their marks
// ("redrive:<partition>", see redrive.h) among the positions that epoch commits.
// Partition indices stay stable: the configured source's partitions and the redrive ones
// are appended in the order they first appear, records polled from the configured source
// are renumbered only once a redrive partition came before one of its partitions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "stream/engine.h"
#include "stream/redrive.h"

namespace pinstream::runtime {

class RedriveMerge final : public connectors::Source {
 public:
  explicit RedriveMerge(std::unique_ptr<connectors::Source> inner) : inner_(std::move(inner)) {}

  // Thread-safe. Whether (partition, position) was redriven before: committed (as of
  // open()) or queued since.
  bool taken(const std::string& partition, const std::string& position) const;
  // Thread-safe. Queues the records not taken yet and marks them taken; returns the marks
  // queued ("redrive:<partition>" -> positions), to wait for their commit, and counts them
  // by stream name into `by_stream`.
  std::map<std::string, std::set<std::string>> enqueue(std::vector<RedriveRecord> records,
                                                       std::map<std::string, int64_t>& by_stream);

  void set_bounded(bool bounded) override { inner_->set_bounded(bounded); }
  core::Status open(const core::Positions& restore) override;
  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override;
  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }
  core::Positions positions() const override;
  bool drained() const override;
  bool release_partial() override { return inner_->release_partial(); }
  std::map<uint32_t, int64_t> lag() const override;
  connectors::LagUnit lag_unit() const override { return inner_->lag_unit(); }
  int32_t task_count() const override { return inner_->task_count(); }
  core::Result<core::Positions> fix_end_positions() override { return inner_->fix_end_positions(); }
  core::Status on_epoch_committed(const core::Positions& committed) override;
  void hand_off_done() override { inner_->hand_off_done(); }
  bool rebalancing() const override { return inner_->rebalancing(); }

 private:
  void sync_partitions();  // appends the configured source's new partitions
  size_t hand_out(core::Batch& out, size_t max_records);

  std::unique_ptr<connectors::Source> inner_;
  std::vector<core::PartitionRef> refs_;           // ingest thread only
  std::vector<uint32_t> inner_index_;              // configured source's index -> refs_ index
  bool renumber_ = false;                          // some inner_index_[i] != i
  std::map<std::string, uint32_t> redrive_index_;  // original partition -> refs_ index
  mutable std::mutex mu_;                          // guards the members below
  std::vector<RedriveRecord> queue_;
  size_t next_ = 0;
  std::map<std::string, std::set<std::string>> taken_;   // original partition -> positions
  std::map<std::string, std::set<std::string>> handed_;  // taken and handed out
};

// The daemon's answer to {"redrive":{"stream":..,"reason":..,"dry_run":..}}: selects the dead
// letters as the CLI does, queues those that clean into `merge`, waits (up to `wait_ms`) until
// an epoch committed their marks, and answers {"ok":true,"streams":{name:{"selected",
// "redriven","still_failing","example"}}} or an error answer. Requests are served one at a
// time, so two quick requests never select the same dead letter.
std::string handle_redrive(const std::string& request_json, const PipelineConfig& cfg,
                           RedriveMerge& merge, const std::function<CommittedView()>& committed,
                           int64_t wait_ms = 120000);

}  // namespace pinstream::runtime
