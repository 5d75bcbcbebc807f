#include "connectors/parquet/writer.h"

#include <algorithm>
#include <cmath>

#include "connectors/parquet/columnar_file.h"

namespace pinstream::connectors::parquet {
using core::Status;
using core::Type;

namespace {
Node node_for(const core::Field& f) {
  switch (f.type) {
    case Type::kLong:
      return Node::leaf(f.name, Physical::kInt64);
    case Type::kDouble:
      return Node::leaf(f.name, Physical::kDouble);
    case Type::kBool:
      return Node::leaf(f.name, Physical::kBoolean);
    case Type::kTimestamp:
      return Node::leaf(f.name, Physical::kInt64, Logical::kTimestampMicros);
    case Type::kDoubleArray:
      return Node::list(f.name, Node::leaf("element", Physical::kDouble));
    default:
      return Node::leaf(f.name, Physical::kByteArray, Logical::kString);
  }
}
}  // namespace

core::Result<std::unique_ptr<FileWriter>> FileWriter::create(const std::string& path,
                                                             const core::Schema& schema,
                                                             WriterOptions opts) {
  std::vector<Node> roots;
  for (const auto& f : schema.fields()) {
    if (f.type == Type::kNull || f.type == Type::kAny)
      return Status::invalid("column '" + f.name + "' has no Parquet type (" +
                             core::type_name(f.type) + ")");
    roots.push_back(node_for(f));
  }
  std::unique_ptr<FileWriter> w(new FileWriter());
  w->schema_ = schema;
  w->stats_.resize(schema.size());
  ChunkOptions chunk;
  chunk.page_bytes = opts.page_bytes;
  chunk.snappy = opts.snappy;
  chunk.dictionary = opts.dictionary;
  PS_ASSIGN_OR_RETURN(w->file_,
                      ColumnarFile::create(path, std::move(roots), chunk, opts.row_group_bytes));
  return w;
}

FileWriter::~FileWriter() = default;

int64_t FileWriter::rows() const { return file_->rows(); }
int64_t FileWriter::bytes_written() const { return file_->bytes_written(); }
int64_t FileWriter::stored_bytes() const { return file_->stored_bytes(); }
uint32_t FileWriter::crc32c() const { return file_->crc32c(); }

void FileWriter::append_column(size_t i, const core::Row* const* rows, size_t count) {
  ColumnWriter& c = file_->column(i);
  const Type type = schema_.field(i).type;
  int64_t& nulls = stats_[i].null_count;
  // Fixed-width columns go in runs of non-null values: one copy and one statistics pass.
  if (type == Type::kLong || type == Type::kTimestamp || type == Type::kDouble) {
    int64_t ints[kBlockRows];
    double doubles[kBlockRows];
    size_t run = 0;
    auto put_run = [&] {
      if (type == Type::kDouble)
        c.add_doubles(doubles, run);
      else
        c.add_i64s(ints, run);
      run = 0;
    };
    for (size_t r = 0; r < count; ++r) {
      const core::Value& v = (*rows[r])[i];
      if (v.is_null()) {
        put_run();
        c.add_null(0, 0);
        ++nulls;
      } else if (type == Type::kDouble) {
        doubles[run++] = v.d;
      } else {
        ints[run++] = v.i;
      }
    }
    put_run();
    return;
  }
  for (size_t r = 0; r < count; ++r) {
    const core::Value& v = (*rows[r])[i];
    if (v.is_null()) {
      c.add_null(0, 0);
      ++nulls;
      continue;
    }
    switch (type) {
      case Type::kBool:
        c.add_bool(v.b);
        break;
      case Type::kString:
        c.add_bytes(v.s);
        break;
      case Type::kDoubleArray:
        if (v.arr.empty()) c.add_null(1, 0);  // list present, no element
        for (size_t k = 0; k < v.arr.size(); ++k) {
          int rep = k == 0 ? 0 : 1;
          if (std::isnan(v.arr[k]))
            c.add_null(2, rep);  // NaN stands for a null element
          else
            c.add_double(v.arr[k], rep);
        }
        break;
      default:
        break;
    }
  }
}

Status FileWriter::append(const core::Row& row) {
  const core::Row* one = &row;
  return append_rows(&one, 1);
}

Status FileWriter::append_rows(const core::Row* const* rows, size_t count) {
  const size_t n = schema_.size();
  for (size_t r = 0; r < count; ++r) {  // validate first: a rejected batch must not be half-written
    const core::Row& row = *rows[r];
    if (row.size() != n)
      return Status::invalid("row has " + std::to_string(row.size()) + " cells, schema has " +
                             std::to_string(n));
    for (size_t i = 0; i < n; ++i) {
      const core::Value& v = row[i];
      const core::Field& f = schema_.field(i);
      if (!v.is_null() && v.type != f.type)
        return Status::invalid("column '" + f.name + "' is " + core::type_name(f.type) + ", got " +
                               core::type_name(v.type));
    }
  }
  // Blocks of rows small enough (≈ 100 KB of Values) to stay in L2 while every column
  // reads them.
  for (size_t from = 0; from < count; from += kBlockRows) {
    const size_t to = std::min(count, from + kBlockRows);
    for (size_t i = 0; i < n; ++i) append_column(i, rows + from, to - from);
  }
  return file_->end_rows(static_cast<int64_t>(count));
}

Status FileWriter::close() {
  PS_RETURN_IF_ERROR(file_->close());
  for (size_t i = 0; i < schema_.size(); ++i) {
    if (schema_.field(i).type == Type::kDoubleArray) continue;
    ColumnWriter& c = file_->column(i);
    stats_[i].min = c.file_min();
    stats_[i].max = c.file_max();
    if (schema_.field(i).type == Type::kTimestamp) {  // INT64 leaves report longs
      if (!stats_[i].min.is_null()) stats_[i].min.set_timestamp(stats_[i].min.i);
      if (!stats_[i].max.is_null()) stats_[i].max.set_timestamp(stats_[i].max.i);
    }
  }
  return Status::ok();
}

}  // namespace pinstream::connectors::parquet
