// Where each shard ends when an --available-now run starts. Kinesis has no call that
// returns a shard's latest sequence number, so an open shard is read once, from where the
// run will start, to its current tip (GetRecords until a short page at MillisBehindLatest
// 0), and its last record's sequence number is the end. That reads the backlog twice, but
// it is exact on Kinesis and on kinesalite alike (kinesalite's AT_TIMESTAMP iterator never
// answers when no record is that recent, and LATEST iterators are opaque on Kinesis). A
// shard closed at the start is read to its end; shards that appear later (children of a
// split or merge after the start) hold only later records and are not read in this run.
#pragma once

#include <map>
#include <string>

#include "connectors/kinesis/kinesis_api.h"

namespace pinstream::connectors::kinesis {

// Sequence numbers are decimal numbers of up to 128 bits: compared by length, then text.
bool sequence_less(const std::string& a, const std::string& b);

// The sequence number of the last record of `shard` now, reading after `after` (a sequence
// number; empty: from TRIM_HORIZON). `last` is left empty when no record follows `after`.
ApiError scan_to_tip(Api& api, const std::string& stream, const std::string& shard,
                     const std::string& after, std::string& last);

class ShardEnds {
 public:
  enum class Kind { kSequence, kClosed, kEmpty };
  struct End {
    Kind kind = Kind::kEmpty;
    std::string sequence;  // kSequence: the last record to read
  };
  bool fixed() const { return fixed_; }
  void set(const std::string& key, End end) {
    fixed_ = true;
    ends_[key] = std::move(end);
  }
  // For the log: the sequence number, "closed" or "" (nothing to read).
  static std::string describe(const End& end);
  // Whether shard `key`, whose last record read is `last_seq`, needs no more reading in this
  // run (`finished`: closed and read to its end).
  bool done(const std::string& key, const std::string& last_seq, bool finished) const;
  // Drops the records past `key`'s end from batch entries [first, batch.size); returns how
  // many of them are kept.
  size_t clip(const std::string& key, core::Batch& batch, size_t first);

 private:
  bool fixed_ = false;
  std::map<std::string, End> ends_;      // "<stream>/<shardId>" -> end
  std::map<std::string, bool> clipped_;  // shards where a record past the end was met
};

}  // namespace pinstream::connectors::kinesis
