// The Source interface every input connector implements (files, kafka, kinesis), and the
// description of what a source must feed: one binding per stream it reads.
// Sources are called from one thread at a time (the runtime's ingest thread while it runs;
// the engine thread before it starts and while it is parked); they need not be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stream/core/config.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors {

// One stream a source feeds: e.g. Kafka topic "pinterest.pin" -> stream 0.
struct StreamBinding {
  uint32_t stream = 0;             // index of the stream in pipeline order
  std::string stream_name;         // "pin"
  const core::ConfigNode* config;  // the stream's `source:` map (kind-specific keys)
  // runtime.max_record_bytes: a source that reads records piece by piece (files) stops
  // buffering one at this size and hands out a prefix cut as kOversized. 0: no limit.
  size_t max_record_bytes = 0;
};

// What Source::lag() counts. Records and bytes behind add up over a stream's partitions;
// time behind does not (the stream is as far behind as its worst partition).
enum class LagUnit { kRecords, kBytes, kMillis };

// The unit as /api/stats ("lag_unit") and the metrics' `unit` label print it.
constexpr const char* lag_unit_name(LagUnit unit) {
  switch (unit) {
    case LagUnit::kRecords:
      return "records";
    case LagUnit::kBytes:
      return "bytes";
    case LagUnit::kMillis:
      return "ms";
  }
  return "records";
}

// How the runtime shares a source's partitions with other processes of the pipeline (SPEC
// section 9), told to the source before open(). Sources without consumer groups ignore it.
struct Membership {
  // pipeline.tasks: partitions: partition p of every topic is task p, and the processes of one
  // consumer group divide the tasks. Otherwise one process must read every partition.
  bool tasks_by_partition = false;
  // Unique among the pipeline's processes on one host and stable across their restarts (the
  // data directory, which one process at a time holds): default member ids are made from it.
  std::string member_hint;
  // Asked on the polling thread before a newly assigned partition this source holds no
  // position for is read from its start; an error refuses it (poll() returns that error).
  std::function<core::Status(const std::string& partition_id)> may_start_fresh;
  // Task hand-off (used instead of may_start_fresh when set): asked on the polling thread for
  // every newly assigned partition. nullopt: read on from the source's own position (or the
  // start); a position: the partition's task was just handed to this process, read on after
  // it ("" = from the start); an error holds the partition paused (a bounded run fails).
  std::function<core::Result<std::optional<std::string>>(const std::string& partition_id)>
      take_partition;
  // Task hand-off on a rebalance (used with take_partition): asked on the polling thread when
  // the group takes back partitions this source has read. The source hands out nothing more
  // of them and holds the rebalance until the runtime has committed every record handed out
  // so far and published the tasks' checkpoints, then calls Source::hand_off_done(). Must not
  // block.
  std::function<void()> hand_off;
  // Asked on the polling thread once the rebalance gave partitions this source had read to
  // another member: their positions are no longer this source's (positions() omits them).
  std::function<void(const std::vector<std::string>& partition_ids)> released;
};

class Source {
 public:
  virtual ~Source() = default;
  // Called before open(). A `bounded` run (--until-idle) must end: a remote source that stays
  // unreachable for its connect timeout fails it (poll() returns IoError naming the
  // endpoint) and never reports drained() while unreachable. An unbounded daemon fails only
  // when the source never answered since open(); later outages are retried and logged.
  virtual void set_bounded(bool bounded) { (void)bounded; }
  // Called before open(): see Membership. InvalidArgument when the source's settings cannot
  // serve it (e.g. a Kafka assignment strategy that does not co-locate tasks).
  virtual core::Status set_membership(const Membership& membership) {
    (void)membership;
    return core::Status::ok();
  }
  // Connects and seeks every partition to just after its restored position (partitions
  // absent from `restore` start at the beginning). Fails with Unavailable when the remote
  // end cannot be reached, InvalidArgument for a bad setting.
  virtual core::Status open(const core::Positions& restore) = 0;
  // Appends up to `max_records` records to `out` (out.next()), waiting at most `timeout`
  // when nothing is available. Returns the number appended. A retryable error means the
  // caller may poll again later; the source keeps its positions.
  virtual core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                                    size_t max_records) = 0;
  // Partitions known so far; indices are stable (new ones are appended).
  virtual const std::vector<core::PartitionRef>& partitions() const = 0;
  // Position of the last record returned by poll(), per partition (what an epoch commits).
  virtual core::Positions positions() const = 0;
  // True once every partition has been read to its current end (for --until-idle).
  virtual bool drained() const = 0;
  // The run ends (--until-idle found the source drained): records that wait for more bytes
  // (a files source's last line without its newline) are handed out by the next poll(),
  // cut as kTruncated. Returns whether any waits; false again once they have been handed out.
  virtual bool release_partial() { return false; }
  // How far each partition (by index into partitions()) is behind its end, as last seen
  // (no remote call): Kafka records behind the high watermark, Kinesis MillisBehindLatest,
  // files unread bytes. Partitions with nothing known are absent.
  virtual std::map<uint32_t, int64_t> lag() const { return {}; }
  virtual LagUnit lag_unit() const { return LagUnit::kRecords; }
  // The partition count of the co-partitioned topics (the tasks of a `pipeline.tasks:
  // partitions` pipeline, SPEC section 9) as last seen; 0 when not known. Thread-safe.
  virtual int32_t task_count() const { return 0; }
  // --available-now: fixes where each partition ends at this moment (before anything is
  // polled) and returns those ends, by partition id, for the log (a Kafka high watermark, a
  // Kinesis sequence number, a file's size...; opaque like positions). From then on poll()
  // hands out no record past them (such records stay for the next run: positions() never
  // passes them) and drained() is true once every partition reached its end, however much
  // producers keep writing. Unimplemented by default; Unavailable when the remote end
  // cannot be asked within the connect timeout.
  virtual core::Result<core::Positions> fix_end_positions() {
    return core::Status::not_implemented(
        "this source cannot fix its end positions; use --until-idle instead of --available-now");
  }
  // Called after an epoch committed `committed` durably (e.g. Kafka commits offsets so lag
  // tools see progress). Errors are logged by the caller, never fatal.
  virtual core::Status on_epoch_committed(const core::Positions& committed) {
    (void)committed;
    return core::Status::ok();
  }
  // Membership::hand_off: the hand-off asked for is done (thread-safe); the source lets the
  // rebalance go on at its next poll().
  virtual void hand_off_done() {}
  // Thread-safe: after hand_off_done(), until the rebalance gives this member its tasks. The
  // runtime commits nothing meanwhile (the checkpoints just published stay the tasks' newest;
  // some of the tasks already belong to another member).
  virtual bool rebalancing() const { return false; }
};

// Builds the source of `kind` ("files", "kafka", "kinesis") for `bindings`. `settings` is
// the pipeline's `sources.<kind>` map (connection settings shared by all streams; may be
// null). InvalidArgument names the offending config key.
using SourceFactory = core::Result<std::unique_ptr<Source>> (*)(
    const std::vector<StreamBinding>& bindings, const core::ConfigNode* settings);

}  // namespace pinstream::connectors
