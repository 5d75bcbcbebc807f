// Schema (ordered named, typed fields) and the record shapes that flow between stages:
// RawRecord (bytes from a source, with its partition and position) and Row (typed cells in
// schema order). Batches are reused across polls so their buffers keep their capacity.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/value.h"

namespace pinstream::core {

struct Field {
  std::string name;
  Type type = Type::kString;
  bool nullable = true;
  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  // Index of the field named `name`, or -1.
  int index_of(std::string_view name) const;
  void add(Field f) { fields_.push_back(std::move(f)); }
  // "ind:long, title:string, ..." for logs and `validate`.
  std::string to_string() const;
  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

// Cells in schema order.
using Row = std::vector<Value>;

// Positions of a source: partition id -> the position of the last record consumed there
// (Kafka offset, Kinesis sequence number, "file:line"). Opaque to everyone but the source.
using Positions = std::map<std::string, std::string>;

// One partition of a source: Kafka topic-partition, Kinesis shard, or one file sequence.
struct PartitionRef {
  std::string id;       // unique within the pipeline, e.g. "pinterest.pin/0"
  uint32_t stream = 0;  // index of the stream (in pipeline order) the partition feeds
};

// How much of a record a source could hand over. A cut record is a dead letter whatever
// its bytes say; the source kept memory bounded instead of buffering it whole.
enum class RecordCut : uint8_t {
  kWhole,      // `bytes` is the whole record
  kOversized,  // longer than the size limit: `bytes` holds its first bytes only
  kTruncated,  // the input ended inside it (a last line without its newline)
};

struct RawRecord {
  uint32_t partition = 0;          // index into the source's partitions()
  std::string position;            // this record's position, as in Positions
  std::string bytes;               // the payload, untouched (a prefix when cut as kOversized)
  int64_t source_time_micros = 0;  // broker/append time when the source has one, else 0
  RecordCut cut = RecordCut::kWhole;
  uint64_t full_size = 0;   // when cut: the whole record's size in bytes
  std::string full_sha256;  // when cut and `bytes` is a prefix: hex SHA-256 of the whole
};

// Records from one poll. `size` is the number of valid records; entries past it are spare
// buffers kept for reuse.
struct Batch {
  static constexpr size_t kKeptRecordCapacity = 64 * 1024;
  std::vector<RawRecord> records;
  size_t size = 0;
  // Returns a cleared record slot to fill (reusing its buffers).
  RawRecord& next() {
    if (size == records.size()) records.emplace_back();
    RawRecord& r = records[size++];
    r.position.clear();
    // A slot keeps its buffer for the next record, except a huge one: each of the rare 1 MB
    // lines would otherwise pin a megabyte in its slot for the rest of the run.
    if (r.bytes.capacity() > kKeptRecordCapacity)
      std::string().swap(r.bytes);
    else
      r.bytes.clear();
    r.source_time_micros = 0;
    r.cut = RecordCut::kWhole;
    r.full_size = 0;
    r.full_sha256.clear();
    return r;
  }
  void clear() { size = 0; }
};

}  // namespace pinstream::core
