// A small Parquet reader for files this writer produced (data pages v1, PLAIN or
// dictionary values, RLE/bit-packed levels, snappy or uncompressed): it returns every leaf
// column as flat (definition level, repetition level, value) entries plus the schema tree,
// so that callers can reassemble nested records. Used to read Delta checkpoints back; not a
// general-purpose reader (no data page v2, no other codecs or encodings).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/parquet/column_writer.h"
#include "stream/core/status.h"

namespace pinstream::connectors::parquet {

struct LeafColumn {
  LeafSpec spec;
  std::vector<uint8_t> def, rep;    // one per entry
  std::vector<core::Value> values;  // one per entry; null where def < max_def
};

struct ParquetContents {
  std::vector<Node> roots;
  std::vector<LeafColumn> leaves;  // depth-first, as leaves_of(roots)
  int64_t rows = 0;
  std::string created_by;
};

// Reads the whole file. IoError when unreadable, Corruption when it is not a Parquet file
// we can decode (NotImplemented for encodings or codecs we do not write).
core::Result<ParquetContents> read_file(const std::string& path);
// The same over a file's bytes already in memory (e.g. fetched from an object store);
// `name` names it in messages.
core::Result<ParquetContents> read_bytes(std::string_view data, const std::string& name);

// `length` bytes at `offset` of a file (fewer only past its end); the view stays valid until
// the next call.
using RangeReader = std::function<core::Result<std::string_view>(uint64_t offset, uint64_t length)>;
// Reads a file of `size` bytes one row group at a time, each handed to `each` as contents of
// its own (rows = the group's): memory holds one row group, never the whole file (the
// compaction of large files). Reads the footer, then each group's bytes with one call.
core::Status read_row_groups(uint64_t size, const RangeReader& read, const std::string& name,
                             const std::function<core::Status(ParquetContents&)>& each);

}  // namespace pinstream::connectors::parquet
