// The raw archive (SPEC section 5, the seed's MSK Connect S3 sink): every raw record a
// stream consumes is also written, in the same epoch commit, under
//   <root>/topics/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json
// one file per partition per epoch, one record per line, bytes untouched. The files source
// reads this layout, so `replay` (or a new pipeline) can rebuild everything after the
// source's retention has passed.
//   <p>            the trailing number of the partition id (Kafka/files "topic/2" -> 2,
//                  Kinesis "stream/shardId-000000000002" -> 2), else the partition index
//   <startOffset>  the first record's Kafka offset when positions are offsets, else the
//                  number of records archived from the partition before the file
// Exactly once: files are written and fsynced before the epoch's state write, which also
// records each partition's next start; when a process first sees a partition, files at or
// past its committed next start (left by a crash, or by the run a replay rewinds) are
// deleted, so re-processed records are written again instead of twice. The archive root
// belongs to the pipeline. A root is a local directory or s3://bucket/prefix: each file is
// one whole-object write (atomic on both), deleted ones are found by listing.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

class RawArchive {
 public:
  struct Target {
    std::string root, topic;  // empty root: the stream is not archived
  };
  // Opens every stream's root and checks it (a missing bucket or refused credentials are
  // InvalidArgument naming the root, an unreachable endpoint Unavailable).
  static core::Result<std::unique_ptr<RawArchive>> open(std::vector<Target> per_stream);
  bool enabled(uint32_t stream) const {
    return stream < streams_.size() && !streams_[stream].root.empty();
  }
  // `next` = committed next start per partition id (kept in the epoch metadata).
  void add(const core::PartitionRef& partition, uint32_t partition_index,
           const core::RawRecord& record, const std::map<std::string, int64_t>& next);
  // Writes this epoch's files durably and moves `next` past them. Also reports a failure to
  // delete uncommitted files.
  core::Status flush(std::map<std::string, int64_t>& next);

 private:
  struct Open {
    const Target* target = nullptr;
    std::string id;
    int64_t number = 0, start = 0, count = 0;
    bool offsets = false;  // start and next are Kafka offsets
    std::string data;
  };
  using Store = connectors::objstore::ObjectStore;
  RawArchive(std::vector<Target> per_stream, std::map<std::string, std::unique_ptr<Store>> stores)
      : streams_(std::move(per_stream)), stores_(std::move(stores)) {}
  static int64_t partition_number(const std::string& id, uint32_t index);
  // Deletes the partition's files that no committed epoch accounts for.
  core::Status remove_uncommitted(const Target& t, int64_t number, const std::string& id,
                                  const std::map<std::string, int64_t>& next);
  std::vector<Target> streams_;
  std::map<std::string, std::unique_ptr<Store>> stores_;  // by root
  std::set<std::string> seen_;                            // partitions cleaned up in this process
  core::Status error_;
  std::map<uint32_t, Open> open_;  // by partition index, this epoch
};

}  // namespace pinstream::runtime
