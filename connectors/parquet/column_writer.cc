#include "connectors/parquet/column_writer.h"

#include <snappy.h>

#include <cmath>

#include "connectors/parquet/encoding.h"

namespace pinstream::connectors::parquet {
using core::Type;
using core::Value;

namespace {
enum : int32_t { kPlain = 0, kPlainDictionary = 2, kRle = 3 };
enum : int32_t { kDataPage = 0, kDictionaryPage = 2 };
enum : int32_t { kUncompressed = 0, kSnappy = 1 };
enum : int32_t { kUtf8 = 0, kMapConverted = 1, kMapKeyValue = 2, kListConverted = 3, kTsMicros = 10 };

std::string plain_of(const Value& v, Physical p) {
  std::string out;
  switch (p) {
    case Physical::kInt64: put_le64(out, static_cast<uint64_t>(v.i)); break;
    case Physical::kInt32: put_le32(out, static_cast<uint32_t>(v.i)); break;
    case Physical::kDouble: put_double(out, v.d); break;
    case Physical::kBoolean: out.push_back(v.b ? 1 : 0); break;
    case Physical::kByteArray: out = v.s; break;
  }
  return out;
}

void collect(const Node& n, std::vector<std::string>& path, int def, int rep, std::vector<LeafSpec>& out) {
  path.push_back(n.name);
  if (n.repetition != Repetition::kRequired) ++def;
  if (n.repetition == Repetition::kRepeated) ++rep;
  if (n.is_leaf()) out.push_back(LeafSpec{path, n.physical, def, rep});
  for (const auto& c : n.children) collect(c, path, def, rep, out);
  path.pop_back();
}

void element(ThriftWriter& w, const Node& n) {
  w.list_struct_begin();
  if (n.is_leaf()) w.field_i32(1, static_cast<int32_t>(n.physical));
  w.field_i32(3, static_cast<int32_t>(n.repetition));
  w.field_binary(4, n.name);
  if (!n.is_leaf()) w.field_i32(5, static_cast<int32_t>(n.children.size()));
  int32_t converted = -1;
  int16_t logical = 0;  // LogicalType union member
  switch (n.logical) {
    case Logical::kString: converted = kUtf8; logical = 1; break;
    case Logical::kMap: converted = kMapConverted; logical = 2; break;
    case Logical::kList: converted = kListConverted; logical = 3; break;
    case Logical::kMapKeyValue: converted = kMapKeyValue; break;
    case Logical::kTimestampMicros: converted = kTsMicros; logical = 8; break;
    case Logical::kNone: break;
  }
  if (converted >= 0) w.field_i32(6, converted);
  if (logical != 0) {
    w.begin_struct(10);
    w.begin_struct(logical);
    if (n.logical == Logical::kTimestampMicros) {
      w.field_bool(1, true);  // isAdjustedToUTC
      w.begin_struct(2);      // unit: TimeUnit
      w.begin_struct(2);      // MICROS
      w.end_struct();
      w.end_struct();
    }
    w.end_struct();
    w.end_struct();
  }
  w.end_struct();
  for (const auto& c : n.children) element(w, c);
}

size_t count_nodes(const Node& n) {
  size_t k = 1;
  for (const auto& c : n.children) k += count_nodes(c);
  return k;
}

// Page header + (compressed) body appended to `out`; returns the uncompressed size.
int64_t put_page(std::string& out, int32_t type, const std::string& body, int64_t entries, int32_t encoding,
                 bool snappy) {
  std::string compressed;
  if (snappy) snappy::Compress(body.data(), body.size(), &compressed);
  const std::string& stored = snappy ? compressed : body;
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
  out += h.out();
  out += stored;
  return static_cast<int64_t>(h.out().size() + body.size());
}
}  // namespace

Node Node::leaf(std::string n, Physical p, Logical l, Repetition r) {
  Node x;
  x.name = std::move(n);
  x.physical = p;
  x.logical = l;
  x.repetition = r;
  return x;
}
Node Node::group(std::string n, std::vector<Node> children, Repetition r) {
  Node x;
  x.name = std::move(n);
  x.children = std::move(children);
  x.repetition = r;
  return x;
}
Node Node::list(std::string n, Node element, Repetition r) {
  element.name = "element";
  Node g = group(std::move(n), {group("list", {std::move(element)}, Repetition::kRepeated)}, r);
  g.logical = Logical::kList;
  return g;
}
Node Node::map(std::string n, Node key, Node value, Repetition r) {
  key.name = "key";
  key.repetition = Repetition::kRequired;
  value.name = "value";
  Node kv = group("key_value", {std::move(key), std::move(value)}, Repetition::kRepeated);
  kv.logical = Logical::kMapKeyValue;
  Node g = group(std::move(n), {std::move(kv)}, r);
  g.logical = Logical::kMap;
  return g;
}

std::vector<LeafSpec> leaves_of(const std::vector<Node>& roots) {
  std::vector<LeafSpec> out;
  std::vector<std::string> path;
  for (const auto& n : roots) collect(n, path, 0, 0, out);
  return out;
}

void write_schema(ThriftWriter& w, const std::vector<Node>& roots) {
  size_t total = 1;
  for (const auto& n : roots) total += count_nodes(n);
  w.begin_list(2, ThriftWriter::kStruct, total);
  w.list_struct_begin();
  w.field_binary(4, "schema");
  w.field_i32(5, static_cast<int32_t>(roots.size()));
  w.end_struct();
  for (const auto& n : roots) element(w, n);
}

ColumnWriter::ColumnWriter(LeafSpec spec, ChunkOptions opts) : spec_(std::move(spec)), opts_(opts) {
  dict_open_ = opts_.dictionary && spec_.physical == Physical::kByteArray;
  page_dict_ = dict_open_;
}

void ColumnWriter::add_i64(int64_t v, int rep) {
  levels(spec_.max_def, rep);
  values_.put_le64(static_cast<uint64_t>(v));
  if (min_.is_null() || v < min_.i) min_.set_long(v);
  if (max_.is_null() || v > max_.i) max_.set_long(v);
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_i32(int32_t v, int rep) {
  levels(spec_.max_def, rep);
  values_.put_le32(static_cast<uint32_t>(v));
  if (min_.is_null() || v < min_.i) min_.set_long(v);
  if (max_.is_null() || v > max_.i) max_.set_long(v);
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
    if (min_.is_null() || v < min_.d) min_.set_double(v == 0.0 ? -0.0 : v);
    if (max_.is_null() || v > max_.d) max_.set_double(v == 0.0 ? 0.0 : v);
  }
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_bool(bool v, int rep) {
  levels(spec_.max_def, rep);
  bools_.push_back(v);
  if (min_.is_null() || (!v && min_.b)) min_.set_bool(v);
  if (max_.is_null() || (v && !max_.b)) max_.set_bool(v);
  ++page_entries_;
  ++entries_;
  maybe_page();
}

void ColumnWriter::add_bytes(std::string_view v, int rep) {
  levels(spec_.max_def, rep);
  if (min_.is_null() || v < std::string_view(min_.s)) min_.set_string(v);
  if (max_.is_null() || v > std::string_view(max_.s)) max_.set_string(v);
  if (dict_open_) {
    auto it = dict_.find(v);
    if (it == dict_.end()) {
      it = dict_.emplace(std::string(v), static_cast<uint32_t>(dict_.size())).first;
      put_le32(dict_plain_, static_cast<uint32_t>(v.size()));
      dict_plain_.append(v.data(), v.size());
    }
    indices_.push_back(it->second);
    dict_used_ = true;
  } else {
    values_.put_le32(static_cast<uint32_t>(v.size()));
    values_.append(v.data(), v.size());
  }
  ++page_entries_;
  ++entries_;
  // Give up on the dictionary when it grows past its budget, or when most values are
  // distinct (it would cost time and save nothing).
  if (dict_open_ && (static_cast<int64_t>(dict_plain_.size()) > opts_.dictionary_bytes ||
                     (++dict_values_ >= 4096 && dict_.size() * 2 > static_cast<size_t>(dict_values_)))) {
    finish_page();  // the rest of the chunk is PLAIN
    dict_open_ = false;
    page_dict_ = false;
  }
  maybe_page();
}

size_t ColumnWriter::buffered() const {
  return values_.size() + indices_.size() * 2 + defs_.size() / 4 + reps_.size() / 4 + bools_.size() / 8 +
         pages_.size() + dict_plain_.size() * 2;
}

void ColumnWriter::finish_page() {
  if (page_entries_ == 0 && defs_.empty()) return;
  std::string body;
  if (spec_.max_rep > 0) encode_levels(body, reps_, spec_.max_rep);
  if (spec_.max_def > 0) encode_levels(body, defs_, spec_.max_def);
  int32_t encoding = kPlain;
  if (page_dict_ && !indices_.empty()) {
    int width = bit_width(dict_.empty() ? 0 : static_cast<uint32_t>(dict_.size() - 1));
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
  int64_t entries = static_cast<int64_t>(spec_.max_def > 0 ? defs_.size() : static_cast<size_t>(page_entries_));
  chunk_uncompressed_ += put_page(pages_, kDataPage, body, entries, encoding, opts_.snappy);
  values_.clear();
  defs_.clear();
  reps_.clear();
  indices_.clear();
  bools_.clear();
  page_entries_ = 0;
}

void ColumnWriter::finish_chunk(int64_t offset, std::string& out, ThriftWriter& meta) {
  finish_page();
  int64_t start = static_cast<int64_t>(out.size());
  int64_t uncompressed = chunk_uncompressed_;
  int64_t dict_offset = -1;
  if (dict_used_) {
    dict_offset = offset;
    uncompressed += put_page(out, kDictionaryPage, dict_plain_, static_cast<int64_t>(dict_.size()), kPlainDictionary,
                             opts_.snappy);
  }
  int64_t data_offset = offset + static_cast<int64_t>(out.size()) - start;
  out += pages_;
  int64_t total = static_cast<int64_t>(out.size()) - start;

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
  if (!max_.is_null() && !(max_.type == Type::kString && max_.s.size() > 1024)) {
    meta.field_binary(5, plain_of(max_, spec_.physical));
    meta.field_binary(6, plain_of(min_, spec_.physical));
  }
  meta.end_struct();
  meta.end_struct();  // ColumnMetaData
  meta.end_struct();  // ColumnChunk

  if (!min_.is_null() && (file_min_.is_null() || min_.compare(file_min_) < 0)) file_min_ = min_;
  if (!max_.is_null() && (file_max_.is_null() || max_.compare(file_max_) > 0)) file_max_ = max_;
  pages_.clear();
  chunk_uncompressed_ = entries_ = nulls_ = 0;
  dict_.clear();
  dict_plain_.clear();
  dict_open_ = page_dict_ = opts_.dictionary && spec_.physical == Physical::kByteArray;
  dict_used_ = false;
  dict_values_ = 0;
  min_ = Value();
  max_ = Value();
}

}  // namespace pinstream::connectors::parquet
