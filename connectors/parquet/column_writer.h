// The low-level Parquet writer: one ColumnWriter per leaf of a schema tree (schema_tree.h)
// takes (definition level, repetition level, value) triples and turns them into compressed
// data pages v1 of one column chunk. FileWriter (flat rows) and the Delta checkpoint
// writer (nested actions) are both built on it. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/parquet/dictionary.h"
#include "connectors/parquet/encoding.h"
#include "connectors/parquet/schema_tree.h"
#include "connectors/parquet/thrift_compact.h"
#include "stream/core/status.h"
#include "stream/core/value.h"

namespace pinstream::connectors::parquet {

struct ChunkOptions {
  int64_t page_bytes = 32 << 10;       // Default: 32 KiB of values per data page
  bool snappy = true;                  // Default: true
  bool dictionary = true;              // Default: true (BYTE_ARRAY columns only)
  int64_t dictionary_bytes = 1 << 20;  // Default: 1 MiB; past it the chunk falls back to PLAIN
};

class ColumnWriter {
 public:
  ColumnWriter(LeafSpec spec, ChunkOptions opts);
  const LeafSpec& spec() const { return spec_; }

  // One entry with no value: def < max_def.
  void add_null(int def, int rep) {
    levels(def, rep);
    ++nulls_;
    ++entries_;
    maybe_page();
  }
  void add_i64(int64_t v, int rep = 0);
  void add_i32(int32_t v, int rep = 0);
  void add_double(double v, int rep = 0);
  void add_bool(bool v, int rep = 0);
  void add_bytes(std::string_view v, int rep = 0);
  // `n` non-null values of a flat column (rep 0) at once: a copy and a statistics pass per
  // page; pages are cut where one-by-one appends would cut them.
  void add_i64s(const int64_t* v, size_t n);
  void add_doubles(const double* v, size_t n);

  // Bytes held in memory for the current chunk (pages, buffers and dictionary).
  size_t buffered() const;
  // Bytes of the current chunk's finished (compressed) data pages: what the chunk will at
  // least take in the file.
  size_t stored() const { return pages_.size(); }
  // Hands the finished chunk (dictionary page, data pages), which starts at file offset
  // `offset`, to `write` and appends its ColumnChunk struct (as a list element) to `meta`.
  // Resets the chunk. Returns the first error of `write`.
  core::Status finish_chunk(int64_t offset, ThriftWriter& meta,
                            const std::function<core::Status(std::string_view)>& write);
  // Min/max over the whole file (null when none), as long/double/bool/string values.
  const core::Value& file_min() const { return file_min_; }
  const core::Value& file_max() const { return file_max_; }

 private:
  // Definition levels are kept only once a page has an entry below max_def; until then the
  // page's levels are one run of max_def, counted in level_count_.
  void levels(int def, int rep) {
    if (spec_.max_def > 0) {
      if (defs_live_)
        defs_.push_back(static_cast<uint32_t>(def));
      else if (def != spec_.max_def)
        materialize_defs(def);
    }
    if (spec_.max_rep > 0) reps_.push_back(static_cast<uint32_t>(rep));
    ++level_count_;
  }
  void materialize_defs(int def);
  // Levels of `n` entries with a value at the top level (def = max_def, rep = 0).
  void level_run(size_t n) {
    if (spec_.max_def > 0 && defs_live_)
      defs_.insert(defs_.end(), n, static_cast<uint32_t>(spec_.max_def));
    if (spec_.max_rep > 0) reps_.insert(reps_.end(), n, 0u);
    level_count_ += static_cast<int64_t>(n);
  }
  // How many of `n` fixed-width values fit before the current page is full (at least 1).
  size_t run_room(size_t n) const;
  // `n` 8-byte values page by page: levels, stats(values, count), one copy, counters.
  template <class T, class Stats>
  void add_run(const T* v, size_t n, Stats&& stats);
  void maybe_page() {
    if (static_cast<int64_t>(values_.size() + indices_.size()) + level_count_ >= opts_.page_bytes)
      finish_page();
  }
  void finish_page();
  // Page header + (compressed) body appended to `out` (a std::string or BlockBuffer).
  template <class Out>
  int64_t put_page(Out& out, int32_t type, std::string_view body, int64_t entries,
                   int32_t encoding);
  void dict_reset();
  // Counts a value sent to the dictionary; true when the chunk should go on in PLAIN.
  bool dict_gives_up(size_t value_bytes);
  // Chunk statistics into min/max Values (null when the chunk had no value).
  void chunk_stats(core::Value& min, core::Value& max) const;

  LeafSpec spec_;
  ChunkOptions opts_;
  // Current page.
  ByteBuffer values_;
  std::vector<uint32_t> defs_, reps_, indices_;
  std::vector<bool> bools_;
  int64_t page_entries_ = 0, level_count_ = 0;
  bool defs_live_ = false;
  bool page_dict_ = false;  // current page holds dictionary indices
  std::string body_;        // scratch: one page before compression
  std::unique_ptr<char[]> compressed_;
  size_t compressed_cap_ = 0;
  // Current chunk.
  BlockBuffer pages_;
  int64_t chunk_uncompressed_ = 0, entries_ = 0, nulls_ = 0;
  StringDictionary dict_;
  int64_t dict_values_ = 0;     // values this chunk sent to the dictionary
  int64_t dict_raw_bytes_ = 0;  // their PLAIN size, while sampling
  bool dict_sampling_ = true;   // the first page's worth of values not yet judged
  bool dict_open_ = true, dict_used_ = false;
  // Chunk statistics by physical type (has_stats_: a non-null, non-NaN value was seen).
  bool has_stats_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  bool bmin_ = true, bmax_ = false;
  std::string smin_, smax_;
  core::Value file_min_, file_max_;
};

}  // namespace pinstream::connectors::parquet
