#include "connectors/parquet/column_writer.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "connectors/parquet/encoding.h"

namespace pinstream::connectors::parquet {
using core::Status;
using core::Type;
using core::Value;

namespace {
enum : int32_t { kPlain = 0, kPlainDictionary = 2, kRle = 3 };
enum : int32_t { kDataPage = 0, kDictionaryPage = 2 };
enum : int32_t { kUncompressed = 0, kSnappy = 1 };

std::string plain_of(const Value& v, Physical p) {
  std::string out;
  switch (p) {
    case Physical::kInt64:
      put_le64(out, static_cast<uint64_t>(v.i));
      break;
    case Physical::kInt32:
      put_le32(out, static_cast<uint32_t>(v.i));
      break;
    case Physical::kDouble:
      put_double(out, v.d);
      break;
    case Physical::kBoolean:
      out.push_back(v.b ? 1 : 0);
      break;
    case Physical::kByteArray:
      out = v.s;
      break;
  }
  return out;
}

// Byte-wise comparison; when both values have eight bytes, those are compared first as one
// big-endian integer (the usual outcome for min/max statistics).
int compare_bytes(std::string_view a, std::string_view b) {
  if (a.size() >= 8 && b.size() >= 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data(), 8);
    std::memcpy(&y, b.data(), 8);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  return a.compare(b);
}
}  // namespace

ColumnWriter::ColumnWriter(LeafSpec spec, ChunkOptions opts) : spec_(std::move(spec)), opts_(opts) {
  dict_open_ = opts_.dictionary && spec_.physical == Physical::kByteArray;
  page_dict_ = dict_open_;
}

void ColumnWriter::materialize_defs(int def) {
  defs_.assign(static_cast<size_t>(level_count_), static_cast<uint32_t>(spec_.max_def));
  defs_.push_back(static_cast<uint32_t>(def));
  defs_live_ = true;
}

void ColumnWriter::add_i64(int64_t v, int rep) {
  levels(spec_.max_def, rep);
  values_.put_le64(static_cast<uint64_t>(v));
  if (!has_stats_) imin_ = imax_ = v;
  has_stats_ = true;
  imin_ = std::min(imin_, v);
  imax_ = std::max(imax_, v);
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_i32(int32_t v, int rep) {
  levels(spec_.max_def, rep);
  values_.put_le32(static_cast<uint32_t>(v));
  if (!has_stats_) imin_ = imax_ = v;
  has_stats_ = true;
  imin_ = std::min<int64_t>(imin_, v);
  imax_ = std::max<int64_t>(imax_, v);
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_double(double v, int rep) {
  levels(spec_.max_def, rep);
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  values_.put_le64(bits);
  if (!std::isnan(v)) {  // NaN has no place in min/max
    if (!has_stats_) dmin_ = dmax_ = v;
    has_stats_ = true;
    if (v < dmin_) dmin_ = v;
    if (v > dmax_) dmax_ = v;
  }
  ++page_entries_;
  ++entries_;
  maybe_page();
}

size_t ColumnWriter::run_room(size_t n) const {
  // Each fixed-width value adds 8 bytes and one level to what maybe_page() counts: the
  // values up to the one that fills the page, exactly where one-by-one appends would cut.
  const int64_t used = static_cast<int64_t>(values_.size() + indices_.size()) + level_count_;
  const int64_t left = std::max<int64_t>(1, opts_.page_bytes - used);
  return std::min(n, static_cast<size_t>((left + 8) / 9));
}

template <class T, class Stats>
void ColumnWriter::add_run(const T* v, size_t n, Stats&& stats) {
  static_assert(sizeof(T) == 8 && std::endian::native == std::endian::little,
                "PLAIN values are stored as they are in memory");
  while (n > 0) {
    const size_t k = run_room(n);
    level_run(k);
    stats(v, k);
    values_.append(reinterpret_cast<const char*>(v), k * 8);
    page_entries_ += static_cast<int64_t>(k);
    entries_ += static_cast<int64_t>(k);
    maybe_page();
    v += k;
    n -= k;
  }
}

void ColumnWriter::add_i64s(const int64_t* v, size_t n) {
  add_run(v, n, [this](const int64_t* p, size_t k) {
    int64_t lo = has_stats_ ? imin_ : p[0], hi = has_stats_ ? imax_ : p[0];
    for (size_t j = 0; j < k; ++j) {
      lo = std::min(lo, p[j]);
      hi = std::max(hi, p[j]);
    }
    imin_ = lo;
    imax_ = hi;
    has_stats_ = true;
  });
}

void ColumnWriter::add_doubles(const double* v, size_t n) {
  add_run(v, n, [this](const double* p, size_t k) {
    for (size_t j = 0; j < k; ++j) {
      if (std::isnan(p[j])) continue;  // NaN has no place in min/max
      if (!has_stats_) dmin_ = dmax_ = p[j];
      has_stats_ = true;
      if (p[j] < dmin_) dmin_ = p[j];
      if (p[j] > dmax_) dmax_ = p[j];
    }
  });
}

void ColumnWriter::add_bool(bool v, int rep) {
  levels(spec_.max_def, rep);
  bools_.push_back(v);
  has_stats_ = true;
  bmin_ = bmin_ && v;
  bmax_ = bmax_ || v;
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_bytes(std::string_view v, int rep) {
  levels(spec_.max_def, rep);
  bool fresh = true;  // not yet in this chunk's statistics (a dictionary hit is)
  if (dict_open_) {
    uint32_t index = dict_.index(v, fresh);
    indices_.push_back(index);
    dict_used_ = true;
  } else {
    values_.put_le32(static_cast<uint32_t>(v.size()));
    values_.append(v.data(), v.size());
  }
  if (fresh) {
    if (!has_stats_) {
      smin_.assign(v.data(), v.size());
      smax_.assign(v.data(), v.size());
      has_stats_ = true;
    } else if (compare_bytes(v, smin_) < 0) {
      smin_.assign(v.data(), v.size());
    } else if (compare_bytes(v, smax_) > 0) {
      smax_.assign(v.data(), v.size());
    }
  }
  ++page_entries_;
  ++entries_;
  if (dict_open_ && dict_gives_up(v.size())) {
    finish_page();  // the rest of the chunk is PLAIN
    dict_open_ = false;
    page_dict_ = false;
  }
  maybe_page();
}

bool ColumnWriter::dict_gives_up(size_t value_bytes) {
  ++dict_values_;
  if (static_cast<int64_t>(dict_.plain().size()) > opts_.dictionary_bytes) return true;
  // Decided once, from the first page's worth of PLAIN bytes, as parquet-mr does: when the
  // dictionary plus its indices are not smaller than those values, the column's values are
  // mostly distinct (long descriptions, titles, URLs) and hashing the rest costs time for no
  // saving. A column of few distinct values keeps its dictionary for the whole chunk.
  if (dict_sampling_) {
    dict_raw_bytes_ += static_cast<int64_t>(4 + value_bytes);
    if (dict_raw_bytes_ >= opts_.page_bytes) {
      dict_sampling_ = false;
      const auto width = static_cast<int64_t>(
          bit_width(dict_.size() == 0 ? 0 : static_cast<uint32_t>(dict_.size() - 1)));
      const int64_t encoded =
          static_cast<int64_t>(dict_.plain().size()) + (dict_values_ * width + 7) / 8;
      if (encoded >= dict_raw_bytes_) return true;
    }
  }
  // Past the sample, most values still distinct: the dictionary would cost time and save
  // nothing.
  return dict_values_ >= 4096 && dict_.size() * 2 > static_cast<size_t>(dict_values_);
}

void ColumnWriter::dict_reset() {
  dict_.clear();
  dict_values_ = dict_raw_bytes_ = 0;
  dict_sampling_ = true;
  dict_used_ = false;
  dict_open_ = page_dict_ = opts_.dictionary && spec_.physical == Physical::kByteArray;
}

size_t ColumnWriter::buffered() const {
  return values_.size() + indices_.size() * 2 + defs_.size() / 4 + reps_.size() / 4 +
         bools_.size() / 8 + pages_.size() + dict_.plain().size() * 2;
}

// Returns the page's uncompressed size (header included).
template <class Out>
int64_t ColumnWriter::put_page(Out& out, int32_t type, std::string_view body, int64_t entries,
                               int32_t encoding) {
  std::string_view stored = body;
  if (opts_.snappy) {
    size_t need = snappy::MaxCompressedLength(body.size());
    if (need > compressed_cap_) {
      compressed_.reset(new char[need]);
      compressed_cap_ = need;
    }
    size_t len = 0;
    snappy::RawCompress(body.data(), body.size(), compressed_.get(), &len);
    stored = std::string_view(compressed_.get(), len);
  }
  ThriftWriter h;
  h.field_i32(1, type);
  h.field_i32(2, static_cast<int32_t>(body.size()));
  h.field_i32(3, static_cast<int32_t>(stored.size()));
  if (type == kDataPage) {
    h.begin_struct(5);
    h.field_i32(1, static_cast<int32_t>(entries));
    h.field_i32(2, encoding);
    h.field_i32(3, kRle);
    h.field_i32(4, kRle);
    h.end_struct();
  } else {
    h.begin_struct(7);
    h.field_i32(1, static_cast<int32_t>(entries));
    h.field_i32(2, encoding);
    h.end_struct();
  }
  h.end_message();
  out.append(h.out().data(), h.out().size());
  out.append(stored.data(), stored.size());
  return static_cast<int64_t>(h.out().size() + body.size());
}

void ColumnWriter::finish_page() {
  if (page_entries_ == 0 && level_count_ == 0) return;
  std::string& body = body_;
  body.clear();
  if (spec_.max_rep > 0) encode_levels(body, reps_, spec_.max_rep);
  if (spec_.max_def > 0) {
    if (defs_live_)
      encode_levels(body, defs_, spec_.max_def);
    else
      encode_level_run(body, static_cast<size_t>(level_count_),
                       static_cast<uint32_t>(spec_.max_def), spec_.max_def);
  }
  int32_t encoding = kPlain;
  if (page_dict_ && !indices_.empty()) {
    int width = bit_width(dict_.size() == 0 ? 0 : static_cast<uint32_t>(dict_.size() - 1));
    body.push_back(static_cast<char>(width));
    encode_hybrid(body, indices_, width);
    encoding = kPlainDictionary;
  } else if (spec_.physical == Physical::kBoolean) {
    size_t at = body.size();
    body.resize(at + (bools_.size() + 7) / 8, '\0');
    for (size_t i = 0; i < bools_.size(); ++i)
      if (bools_[i]) body[at + i / 8] = static_cast<char>(body[at + i / 8] | (1 << (i % 8)));
  } else {
    body.append(values_.data(), values_.size());
  }
  int64_t entries = spec_.max_def > 0 ? level_count_ : page_entries_;
  chunk_uncompressed_ += put_page(pages_, kDataPage, body, entries, encoding);
  values_.clear();
  defs_.clear();
  reps_.clear();
  indices_.clear();
  bools_.clear();
  page_entries_ = level_count_ = 0;
  defs_live_ = false;
}

void ColumnWriter::chunk_stats(Value& min, Value& max) const {
  if (!has_stats_) return;
  switch (spec_.physical) {
    case Physical::kInt64:
    case Physical::kInt32:
      min.set_long(imin_);
      max.set_long(imax_);
      break;
    case Physical::kDouble:  // a zero min is -0.0 and a zero max +0.0, as the spec asks
      min.set_double(dmin_ == 0.0 ? -0.0 : dmin_);
      max.set_double(dmax_ == 0.0 ? 0.0 : dmax_);
      break;
    case Physical::kBoolean:
      min.set_bool(bmin_);
      max.set_bool(bmax_);
      break;
    case Physical::kByteArray:
      min.set_string(smin_);
      max.set_string(smax_);
      break;
  }
}

Status ColumnWriter::finish_chunk(int64_t offset, ThriftWriter& meta,
                                  const std::function<Status(std::string_view)>& write) {
  finish_page();
  std::string& head = body_;  // the dictionary page; the data pages are written from pages_
  head.clear();
  int64_t dict_offset = -1;
  int64_t uncompressed = chunk_uncompressed_;
  if (dict_used_) {
    dict_offset = offset;
    uncompressed += put_page(head, kDictionaryPage, dict_.plain(),
                             static_cast<int64_t>(dict_.size()), kPlainDictionary);
  }
  int64_t data_offset = offset + static_cast<int64_t>(head.size());
  int64_t total = static_cast<int64_t>(head.size() + pages_.size());
  Value min, max;
  chunk_stats(min, max);

  meta.list_struct_begin();  // ColumnChunk
  meta.field_i64(2, offset);
  meta.begin_struct(3);  // ColumnMetaData
  meta.field_i32(1, static_cast<int32_t>(spec_.physical));
  meta.begin_list(2, ThriftWriter::kI32, dict_used_ ? 3 : 2);
  meta.list_i32(kPlain);
  meta.list_i32(kRle);
  if (dict_used_) meta.list_i32(kPlainDictionary);
  meta.begin_list(3, ThriftWriter::kBinary, spec_.path.size());
  for (const auto& p : spec_.path) meta.list_binary(p);
  meta.field_i32(4, opts_.snappy ? kSnappy : kUncompressed);
  meta.field_i64(5, entries_);
  meta.field_i64(6, uncompressed);
  meta.field_i64(7, total);
  meta.field_i64(9, data_offset);
  if (dict_offset >= 0) meta.field_i64(11, dict_offset);
  meta.begin_struct(12);  // Statistics
  meta.field_i64(3, nulls_);
  // Very long strings are left out rather than truncated: a truncated max is not exact.
  if (!max.is_null() && !(max.type == Type::kString && max.s.size() > 1024)) {
    meta.field_binary(5, plain_of(max, spec_.physical));
    meta.field_binary(6, plain_of(min, spec_.physical));
  }
  meta.end_struct();
  meta.end_struct();  // ColumnMetaData
  meta.end_struct();  // ColumnChunk

  Status st = head.empty() ? Status::ok() : write(head);
  if (st.is_ok()) st = pages_.each_block(write);

  if (!min.is_null() && (file_min_.is_null() || min.compare(file_min_) < 0)) file_min_ = min;
  if (!max.is_null() && (file_max_.is_null() || max.compare(file_max_) > 0)) file_max_ = max;
  pages_.clear();
  chunk_uncompressed_ = entries_ = nulls_ = 0;
  dict_reset();
  has_stats_ = false;
  bmin_ = true;
  bmax_ = false;
  return st;
}

}  // namespace pinstream::connectors::parquet
