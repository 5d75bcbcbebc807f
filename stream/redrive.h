// `pinstream redrive`: dead letters processed again through the current configuration.
// The dead-letter table is read back (local tables root), the selected whole records that
// now clean are fed to the engine by a RedriveSource in one epoch of their own, and the
// marks that they were redriven are that source's positions ("redrive:<partition>" -> the
// JSON array of the original positions taken), committed in the same state write as the
// epoch: a record enters the pipeline exactly once however often redrive runs or crashes.
// The dead-letter table itself stays an append-only record of what was rejected.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "stream/pipeline_config.h"

namespace pinstream::runtime {

struct DeadLetterRow {
  std::string stream, partition, position, raw, encoding, reason;
};

// Every row of the dead-letter table. IoError/Corruption naming the file that cannot be read.
core::Result<std::vector<DeadLetterRow>> read_dead_letters(const PipelineConfig& cfg);

// The positions of partition `partition` already redriven, from committed positions.
std::set<std::string> redriven_marks(const core::Positions& committed,
                                     const std::string& partition);
inline std::string redrive_partition(const std::string& partition) {
  return "redrive:" + partition;
}

// A dead letter to feed again: its stream index, original partition and position, and its
// bytes (decoded from the table's raw/encoding).
struct RedriveRecord {
  uint32_t stream = 0;
  std::string stream_name, partition, position, bytes;
};

// Hands out `records` once, skipping those whose mark is already committed (open()), and
// counts per stream name in `moved` what it will hand out (the engine moves those counts from
// dead: see EngineOptions::moved_from_dead).
class RedriveSource final : public connectors::Source {
 public:
  RedriveSource(std::vector<RedriveRecord> records,
                std::shared_ptr<std::map<std::string, int64_t>> moved)
      : records_(std::move(records)), moved_(std::move(moved)) {}
  core::Status open(const core::Positions& restore) override;
  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override;
  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }
  core::Positions positions() const override;
  bool drained() const override { return next_ >= records_.size(); }

 private:
  std::vector<RedriveRecord> records_;
  std::shared_ptr<std::map<std::string, int64_t>> moved_;
  std::vector<core::PartitionRef> refs_;
  std::map<std::string, uint32_t> index_;               // original partition -> refs_ index
  std::map<std::string, std::set<std::string>> marks_;  // original partition -> positions
  std::map<std::string, bool> touched_;                 // partitions handed out from
  size_t next_ = 0;
};

}  // namespace pinstream::runtime
