// The low-level Parquet writer: a schema tree of nodes (groups and leaves, any nesting,
// as parquet.thrift's SchemaElement list describes it) and one ColumnWriter per leaf that
// takes (definition level, repetition level, value) triples and turns them into compressed
// data pages v1 of one column chunk. FileWriter (flat rows) and the Delta checkpoint
// writer (nested actions) are both built on it. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/parquet/encoding.h"
#include "connectors/parquet/thrift_compact.h"
#include "stream/core/value.h"

namespace pinstream::connectors::parquet {

enum class Physical : int32_t { kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6 };
enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
// Annotations we write: STRING, TIMESTAMP(MICROS, UTC), LIST, MAP and MAP's key_value group.
enum class Logical { kNone, kString, kTimestampMicros, kList, kMap, kMapKeyValue };

struct Node {
  std::string name;
  Repetition repetition = Repetition::kOptional;
  Physical physical = Physical::kByteArray;  // leaves only
  Logical logical = Logical::kNone;
  std::vector<Node> children;  // empty: a leaf
  bool is_leaf() const { return children.empty(); }

  static Node leaf(std::string n, Physical p, Logical l = Logical::kNone,
                   Repetition r = Repetition::kOptional);
  static Node group(std::string n, std::vector<Node> children, Repetition r = Repetition::kOptional);
  // The 3-level LIST: <r> group name (LIST) { repeated group list { element } }.
  static Node list(std::string n, Node element, Repetition r = Repetition::kOptional);
  // MAP: <r> group name (MAP) { repeated group key_value { required key; value } }.
  static Node map(std::string n, Node key, Node value, Repetition r = Repetition::kOptional);
};

struct LeafSpec {
  std::vector<std::string> path;
  Physical physical = Physical::kByteArray;
  int max_def = 0, max_rep = 0;
};

// Depth-first leaves of `roots` with their paths and maximum levels.
std::vector<LeafSpec> leaves_of(const std::vector<Node>& roots);
// Appends the SchemaElement list (root "schema" first) as FileMetaData field 2.
void write_schema(ThriftWriter& w, const std::vector<Node>& roots);

struct ChunkOptions {
  int64_t page_bytes = 1 << 20;       // Default: 1 MiB of values per data page
  bool snappy = true;                 // Default: true
  bool dictionary = true;             // Default: true (BYTE_ARRAY columns only)
  int64_t dictionary_bytes = 1 << 20; // Default: 1 MiB; past it the chunk falls back to PLAIN
};

class ColumnWriter {
 public:
  ColumnWriter(LeafSpec spec, ChunkOptions opts);
  const LeafSpec& spec() const { return spec_; }

  // One entry with no value: def < max_def.
  void add_null(int def, int rep) { levels(def, rep); ++nulls_; ++entries_; maybe_page(); }
  void add_i64(int64_t v, int rep = 0);
  void add_i32(int32_t v, int rep = 0);
  void add_double(double v, int rep = 0);
  void add_bool(bool v, int rep = 0);
  void add_bytes(std::string_view v, int rep = 0);

  // Bytes held in memory for the current chunk (pages, buffers and dictionary).
  size_t buffered() const;
  // Appends the finished chunk (dictionary page, data pages) at file offset `offset` to
  // `out`, and its ColumnChunk struct (as a list element) to `meta`. Resets the chunk.
  void finish_chunk(int64_t offset, std::string& out, ThriftWriter& meta);
  // Min/max over the whole file (null when none), as long/double/bool/string values.
  const core::Value& file_min() const { return file_min_; }
  const core::Value& file_max() const { return file_max_; }

 private:
  void levels(int def, int rep) {
    if (spec_.max_def > 0) defs_.push_back(static_cast<uint32_t>(def));
    if (spec_.max_rep > 0) reps_.push_back(static_cast<uint32_t>(rep));
  }
  void maybe_page() {
    if (static_cast<int64_t>(values_.size() + indices_.size() + defs_.size()) >= opts_.page_bytes) finish_page();
  }
  void finish_page();
  void seen(const core::Value& v);

  LeafSpec spec_;
  ChunkOptions opts_;
  // Current page.
  ByteBuffer values_;
  std::vector<uint32_t> defs_, reps_, indices_;
  std::vector<bool> bools_;
  int64_t page_entries_ = 0;
  bool page_dict_ = false;  // current page holds dictionary indices
  // Current chunk.
  std::string pages_;
  int64_t chunk_uncompressed_ = 0, entries_ = 0, nulls_ = 0;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> dict_;
  int64_t dict_values_ = 0;  // values this chunk sent to the dictionary
  std::string dict_plain_;
  bool dict_open_ = true, dict_used_ = false;
  core::Value min_, max_, file_min_, file_max_, tmp_;
};

}  // namespace pinstream::connectors::parquet
