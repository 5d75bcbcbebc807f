// Our own Parquet writer (no Parquet library exists among Debian's packages): streams typed
// rows into one file. Values are encoded into per-column page buffers as rows arrive (no
// Row is kept), so memory stays bounded by the row group size. Types: long (INT64),
// double, string (BYTE_ARRAY + STRING, dictionary-encoded while the dictionary stays
// small), bool, timestamp (INT64 TIMESTAMP(MICROS, isAdjustedToUTC)), array<double>
// (3-level LIST). Every column is OPTIONAL; pages are data pages v1, snappy-compressed;
// min/max/null_count statistics go into the footer. Not thread-safe: one writer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors::parquet {

class ColumnarFile;

struct WriterOptions {
  int64_t row_group_bytes = 64 << 20;  // Default: 64 MiB of buffered encoded data per row group
  int64_t page_bytes = 32 << 10;       // Default: 32 KiB of values per data page: large
                                       // pages overflow L2 when many columns are written,
                                       // small ones pay snappy's per-page set-up and grow
                                       // the files (bench/README.md, "Parquet page size")
  bool snappy = true;                  // Default: true (false: UNCOMPRESSED)
  bool dictionary = true;              // Default: true: strings dictionary-encoded up to 1 MiB
};

struct ColumnStats {
  core::Value min, max;    // null when every value was null, and for arrays
  int64_t null_count = 0;  // rows whose cell was null
};

class FileWriter {
 public:
  // Creates (truncates) `path`. IoError when it cannot be created; InvalidArgument for a
  // schema with a type Parquet cannot hold (null, any).
  static core::Result<std::unique_ptr<FileWriter>> create(const std::string& path,
                                                          const core::Schema& schema,
                                                          WriterOptions opts = WriterOptions());
  ~FileWriter();
  // `row` in schema order; a cell of the wrong type (or a wrong cell count) is
  // InvalidArgument and leaves the file unchanged.
  core::Status append(const core::Row& row);
  // The same for `count` rows, encoded column by column: each column's page buffer,
  // dictionary and statistics stay in cache through the batch. A rejected row rejects the
  // whole batch, and nothing of it is written.
  core::Status append_rows(const core::Row* const* rows, size_t count);
  // Writes the last row group and the footer, fsyncs and closes the file. IoError on failure.
  core::Status close();
  int64_t rows() const;
  int64_t bytes_written() const;
  // A lower bound of the closed file's size (ColumnarFile::stored_bytes), growing by about a
  // page (WriterOptions::page_bytes per column) at a time: cuts files at a target size.
  int64_t stored_bytes() const;
  // CRC-32C of the bytes written (of the whole file after close()).
  uint32_t crc32c() const;
  // Per column, over the whole file; min/max complete after close().
  const std::vector<ColumnStats>& stats() const { return stats_; }

 private:
  FileWriter() = default;
  static constexpr size_t kBlockRows = 128;
  // Column i of `count` (<= kBlockRows) valid rows.
  void append_column(size_t i, const core::Row* const* rows, size_t count);
  core::Schema schema_;
  std::unique_ptr<ColumnarFile> file_;
  std::vector<ColumnStats> stats_;
};

}  // namespace pinstream::connectors::parquet
