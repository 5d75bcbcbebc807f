#include "connectors/parquet/columnar_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "connectors/parquet/encoding.h"
#include "stream/core/crc32c.h"

namespace pinstream::connectors::parquet {
using core::Status;

core::Result<std::unique_ptr<ColumnarFile>> ColumnarFile::create(const std::string& path,
                                                                 std::vector<Node> roots,
                                                                 ChunkOptions chunk,
                                                                 int64_t row_group_bytes) {
  std::unique_ptr<ColumnarFile> f(new ColumnarFile());
  f->path_ = path;
  f->row_group_bytes_ = row_group_bytes;
  for (auto& leaf : leaves_of(roots))
    f->columns_.push_back(std::make_unique<ColumnWriter>(std::move(leaf), chunk));
  f->roots_ = std::move(roots);
  f->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f->fd_ < 0) return Status::io("cannot create " + path + ": " + std::strerror(errno));
  PS_RETURN_IF_ERROR(f->write_bytes("PAR1"));
  return f;
}

ColumnarFile::~ColumnarFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status ColumnarFile::write_bytes(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::io("write to " + path_ + " failed: " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  offset_ += static_cast<int64_t>(bytes.size());
  crc_ = core::crc32c_extend(crc_, bytes.data(), bytes.size());
  return Status::ok();
}

Status ColumnarFile::end_rows(int64_t n) {
  rows_ += n;
  group_rows_ += n;
  // Summing every column's buffer per row is wasteful: check every few rows, estimated
  // from the last measurement so that a group overshoots its limit by about 1/64.
  since_check_ += n;
  if (since_check_ < check_every_) return Status::ok();
  since_check_ = 0;
  size_t buffered = 0;
  for (const auto& c : columns_) buffered += c->buffered();
  if (static_cast<int64_t>(buffered) >= row_group_bytes_) {
    check_every_ = 1;
    return flush_row_group();
  }
  int64_t per_row = static_cast<int64_t>(buffered) / group_rows_ + 1;
  check_every_ = std::max<int64_t>(1, row_group_bytes_ / 64 / per_row);
  return Status::ok();
}

int64_t ColumnarFile::stored_bytes() const {
  size_t pages = 0;
  for (const auto& c : columns_) pages += c->stored();
  return offset_ + static_cast<int64_t>(pages);
}

Status ColumnarFile::flush_row_group() {
  if (group_rows_ == 0) return Status::ok();
  ThriftWriter rg;
  rg.list_struct_begin();  // RowGroup
  rg.begin_list(1, ThriftWriter::kStruct, columns_.size());
  int64_t first = offset_, uncompressed = 0;
  for (auto& c : columns_) {
    PS_RETURN_IF_ERROR(
        c->finish_chunk(offset_, rg, [this](std::string_view b) { return write_bytes(b); }));
  }
  // total_byte_size is the uncompressed size; we report the stored size for both, which
  // readers only use as a hint.
  uncompressed = offset_ - first;
  rg.field_i64(2, uncompressed);
  rg.field_i64(3, group_rows_);
  rg.field_i64(5, first);
  rg.field_i64(6, offset_ - first);
  rg.end_struct();
  footer_groups_ += rg.out();
  ++num_groups_;
  group_rows_ = 0;
  return Status::ok();
}

Status ColumnarFile::close() {
  if (fd_ < 0) return Status::ok();
  PS_RETURN_IF_ERROR(flush_row_group());
  ThriftWriter m;
  m.field_i32(1, 1);  // version
  write_schema(m, roots_);
  m.field_i64(3, rows_);
  m.begin_list(4, ThriftWriter::kStruct, static_cast<size_t>(num_groups_));
  m.out() += footer_groups_;
  m.field_binary(6, kCreatedBy);
  // column_orders: TYPE_ORDER for every leaf, so readers trust min_value/max_value.
  m.begin_list(7, ThriftWriter::kStruct, columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    m.list_struct_begin();
    m.begin_struct(1);
    m.end_struct();
    m.end_struct();
  }
  m.end_message();
  std::string tail = std::move(m.out());
  uint32_t len = static_cast<uint32_t>(tail.size());
  put_le32(tail, len);
  tail += "PAR1";
  PS_RETURN_IF_ERROR(write_bytes(tail));
  if (::fsync(fd_) != 0) return Status::io("fsync " + path_ + " failed: " + std::strerror(errno));
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Status::io("close " + path_ + " failed: " + std::strerror(errno));
  return Status::ok();
}

}  // namespace pinstream::connectors::parquet
