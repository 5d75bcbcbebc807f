// One Parquet file written column chunk by column chunk: "PAR1", row groups cut by their
// buffered size, then the Thrift FileMetaData footer. The caller feeds each leaf's
// ColumnWriter and calls end_rows() after each record or batch of records. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/parquet/column_writer.h"
#include "stream/core/status.h"

namespace pinstream::connectors::parquet {

// created_by in the footer, in the "<app> version <semver>" shape readers parse.
inline constexpr const char* kCreatedBy = "pinstream version 0.1.0";

class ColumnarFile {
 public:
  // Creates (truncates) `path`; IoError when it cannot.
  static core::Result<std::unique_ptr<ColumnarFile>> create(const std::string& path,
                                                            std::vector<Node> roots,
                                                            ChunkOptions chunk,
                                                            int64_t row_group_bytes);
  ~ColumnarFile();
  ColumnarFile(const ColumnarFile&) = delete;
  ColumnarFile& operator=(const ColumnarFile&) = delete;

  size_t num_columns() const { return columns_.size(); }
  ColumnWriter& column(size_t leaf) { return *columns_[leaf]; }
  // Ends `n` records fed to every column; flushes a row group once the buffered bytes reach
  // the limit (checked every few records, so a group may overshoot by one batch).
  core::Status end_rows(int64_t n = 1);
  // Last row group, footer, fsync, close. IoError on failure.
  core::Status close();
  int64_t rows() const { return rows_; }
  int64_t bytes_written() const { return offset_; }
  // Bytes written plus the finished pages not written yet: the closed file is at least this
  // large (the pages being filled, the dictionaries and the footer come on top).
  int64_t stored_bytes() const;
  // CRC-32C of every byte written so far (the whole file once closed).
  uint32_t crc32c() const { return crc_; }

 private:
  ColumnarFile() = default;
  core::Status flush_row_group();
  core::Status write_bytes(std::string_view bytes);

  std::string path_;
  std::vector<Node> roots_;
  int64_t row_group_bytes_ = 0;
  int fd_ = -1;
  int64_t offset_ = 0, rows_ = 0, group_rows_ = 0, num_groups_ = 0;
  int64_t check_every_ = 1, since_check_ = 0;
  uint32_t crc_ = 0;
  std::vector<std::unique_ptr<ColumnWriter>> columns_;
  std::string footer_groups_;
};

}  // namespace pinstream::connectors::parquet
