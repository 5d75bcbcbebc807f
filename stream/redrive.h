// `pinstream redrive`: dead letters processed again through the current configuration.
// The dead-letter table is read back (through the tables root's object store: a directory
// or s3://), the selected whole records that now clean are fed to the engine, and the
// marks that they were redriven are source positions ("redrive:<partition>" -> the JSON
// array of the original positions taken), committed in the same state write as the epoch
// that processes them: a record enters the pipeline exactly once however often redrive
// runs or crashes. The engine moves each redriven record's count out of read and dead
// (its partition id starts with "redrive:"). With the daemon stopped, a RedriveSource runs
// them in one epoch of their own; with it running, its RedriveMerge (redrive_merge.h) feeds
// them between polls. The dead-letter table itself stays an append-only record of what
// was rejected.
#pragma once

#include <functional>
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

// Every row of the dead-letter table (none when it does not exist yet). The error of the
// store or the Delta log, naming the table, when it cannot be read.
core::Result<std::vector<DeadLetterRow>> read_dead_letters(const PipelineConfig& cfg);

// The positions of partition `partition` already redriven, from committed positions.
std::set<std::string> redriven_marks(const core::Positions& committed,
                                     const std::string& partition);
inline constexpr const char* kRedrivePrefix = "redrive:";
inline std::string redrive_partition(const std::string& partition) {
  return kRedrivePrefix + partition;
}
inline bool is_redrive_partition(const std::string& id) { return id.rfind(kRedrivePrefix, 0) == 0; }

// A dead letter to feed again: its stream index, original partition and position, and its
// bytes (decoded from the table's raw/encoding).
struct RedriveRecord {
  uint32_t stream = 0;
  std::string stream_name, partition, position, bytes;
};

// What a redrive selected (--stream, --reason, not taken before), by stream.
struct RedriveSelection {
  std::vector<RedriveRecord> clean;                        // records that now clean
  std::map<std::string, int64_t> selected, cleans, still;  // by stream
  std::map<std::string, std::string> still_reason;         // an example, by stream
};

// Whether the dead letter at (partition, position) was taken by an earlier redrive.
using TakenFn = std::function<bool(const std::string& partition, const std::string& position)>;

// Reads the dead-letter table and runs the rows of `stream` (all when empty) whose reason
// contains `reason` and that are not taken through `cfg`'s cleaners. InvalidArgument for an
// unknown stream.
core::Result<RedriveSelection> select_dead_letters(const PipelineConfig& cfg,
                                                   const std::string& stream,
                                                   const std::string& reason, const TakenFn& taken);

// Hands out `records` once, skipping those whose mark is already committed (open()).
class RedriveSource final : public connectors::Source {
 public:
  explicit RedriveSource(std::vector<RedriveRecord> records) : records_(std::move(records)) {}
  core::Status open(const core::Positions& restore) override;
  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override;
  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }
  core::Positions positions() const override;
  bool drained() const override { return next_ >= records_.size(); }

 private:
  std::vector<RedriveRecord> records_;
  std::vector<core::PartitionRef> refs_;
  std::map<std::string, uint32_t> index_;               // original partition -> refs_ index
  std::map<std::string, std::set<std::string>> marks_;  // original partition -> positions
  std::map<std::string, bool> touched_;                 // partitions handed out from
  size_t next_ = 0;
};

}  // namespace pinstream::runtime
