#include "connectors/parquet/reader.h"

#include <snappy.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "connectors/parquet/encoding.h"
#include "connectors/parquet/thrift_reader.h"

namespace pinstream::connectors::parquet {
using core::Status;

namespace {

using thrift::ThriftReader;
using thrift::TValue;

Node to_nodes(const std::vector<TValue>& elems, size_t& i) {
  const TValue& e = elems[i++];
  Node n;
  n.name = e.get(4) ? e.get(4)->bin : "";
  n.repetition = static_cast<Repetition>(e.num(3, 0));
  n.physical = static_cast<Physical>(e.num(1, 6));
  int64_t converted = e.num(6, -1);
  if (converted == 0)
    n.logical = Logical::kString;
  else if (converted == 1)
    n.logical = Logical::kMap;
  else if (converted == 2)
    n.logical = Logical::kMapKeyValue;
  else if (converted == 3)
    n.logical = Logical::kList;
  else if (converted == 10)
    n.logical = Logical::kTimestampMicros;
  int64_t children = e.num(5, 0);
  for (int64_t k = 0; k < children && i < elems.size(); ++k)
    n.children.push_back(to_nodes(elems, i));
  return n;
}

core::Value plain_value(std::string_view& in, Physical p, bool& ok) {
  core::Value v;
  auto need = [&](size_t n) {
    if (in.size() < n) ok = false;
    return ok;
  };
  switch (p) {
    case Physical::kInt64:
      if (need(8)) {
        v.set_long(static_cast<int64_t>(get_le(in.data(), 8)));
        in.remove_prefix(8);
      }
      break;
    case Physical::kInt32:
      if (need(4)) {
        v.set_long(static_cast<int32_t>(get_le(in.data(), 4)));
        in.remove_prefix(4);
      }
      break;
    case Physical::kDouble:
      if (need(8)) {
        uint64_t u = get_le(in.data(), 8);
        double d;
        std::memcpy(&d, &u, 8);
        v.set_double(d);
        in.remove_prefix(8);
      }
      break;
    case Physical::kByteArray:
      if (need(4)) {
        size_t n = get_le(in.data(), 4);
        in.remove_prefix(4);
        if (need(n)) {
          v.set_string(in.substr(0, n));
          in.remove_prefix(n);
        }
      }
      break;
    default:
      ok = false;
  }
  return v;
}

// Reads the next page header of `chunk` into `h` and its (uncompressed) body into `body`.
Status next_page(std::string_view& chunk, int64_t codec, TValue& h, std::string& body) {
  ThriftReader r(chunk);
  if (!r.read_struct(h)) return Status::corruption("bad page header");
  chunk.remove_prefix(r.consumed(chunk));
  auto stored = static_cast<size_t>(h.num(3)), raw_size = static_cast<size_t>(h.num(2));
  if (stored > chunk.size()) return Status::corruption("page past the end of its chunk");
  if (codec == 1) {
    if (!snappy::Uncompress(chunk.data(), stored, &body))
      return Status::corruption("bad snappy page");
  } else if (codec == 0) {
    body.assign(chunk.data(), stored);
  } else {
    return Status::not_implemented("codec " + std::to_string(codec));
  }
  chunk.remove_prefix(stored);
  if (body.size() != raw_size) return Status::corruption("page size mismatch");
  return Status::ok();
}

// The repetition and definition levels of a data page's `n` values, read off `in`.
Status read_levels(std::string_view& in, size_t n, const LeafColumn& col,
                   std::vector<uint32_t>& reps, std::vector<uint32_t>& defs) {
  for (int which = 0; which < 2; ++which) {
    int max = which == 0 ? col.spec.max_rep : col.spec.max_def;
    auto& out = which == 0 ? reps : defs;
    if (max == 0) {
      out.assign(n, 0);
      continue;
    }
    if (in.size() < 4) return Status::corruption("truncated levels");
    size_t len = get_le(in.data(), 4);
    in.remove_prefix(4);
    std::string_view lv = in.substr(0, len);
    if (len > in.size() || !decode_hybrid(lv, n, bit_width(static_cast<uint32_t>(max)), out))
      return Status::corruption("bad levels");
    in.remove_prefix(len);
  }
  return Status::ok();
}

// Appends a data page's values (levels read, `in` at the values) to `col`: dictionary
// indices into `dict` when `idx` is not empty, else plain values.
Status append_values(std::string_view in, const std::vector<uint32_t>& reps,
                     const std::vector<uint32_t>& defs, const std::vector<uint32_t>& idx,
                     const std::vector<core::Value>& dict, LeafColumn& col) {
  size_t next = 0, bit = 0;
  bool ok = true;
  for (size_t k = 0; k < defs.size(); ++k) {
    col.def.push_back(static_cast<uint8_t>(defs[k]));
    col.rep.push_back(static_cast<uint8_t>(reps[k]));
    core::Value v;
    if (defs[k] == static_cast<uint32_t>(col.spec.max_def)) {
      if (!idx.empty()) {
        if (idx[next] >= dict.size()) return Status::corruption("dictionary index out of range");
        v = dict[idx[next++]];
      } else if (col.spec.physical == Physical::kBoolean) {
        if (bit / 8 >= in.size()) return Status::corruption("truncated booleans");
        v.set_bool((static_cast<uint8_t>(in[bit / 8]) >> (bit % 8)) & 1);
        ++bit;
      } else {
        v = plain_value(in, col.spec.physical, ok);
        if (!ok) return Status::corruption("truncated values");
      }
    }
    col.values.push_back(std::move(v));
  }
  return Status::ok();
}

// Decodes one column chunk's pages into `col`.
Status read_chunk(std::string_view chunk, int64_t num_values, int64_t codec, LeafColumn& col) {
  std::vector<core::Value> dict;
  int64_t done = 0;
  std::string body;
  while (done < num_values) {
    TValue h;
    PS_RETURN_IF_ERROR(next_page(chunk, codec, h, body));
    std::string_view in(body);
    int64_t type = h.num(1);
    if (type == 2) {  // dictionary page
      bool ok = true;
      int64_t n = h.get(7) ? h.get(7)->num(1) : 0;
      for (int64_t k = 0; k < n && ok; ++k) dict.push_back(plain_value(in, col.spec.physical, ok));
      if (!ok) return Status::corruption("bad dictionary page");
      continue;
    }
    if (type != 0 || !h.get(5)) return Status::not_implemented("page type " + std::to_string(type));
    auto n = static_cast<size_t>(h.get(5)->num(1));
    int64_t encoding = h.get(5)->num(2);
    std::vector<uint32_t> reps, defs, idx;
    PS_RETURN_IF_ERROR(read_levels(in, n, col, reps, defs));
    size_t present = 0;
    for (uint32_t d : defs) present += d == static_cast<uint32_t>(col.spec.max_def);
    if (encoding == 2 || encoding == 8) {
      if (present > 0) {
        if (in.empty()) return Status::corruption("missing bit width");
        int width = static_cast<uint8_t>(in.front());
        in.remove_prefix(1);
        if (!decode_hybrid(in, present, width, idx))
          return Status::corruption("bad dictionary indices");
      }
    } else if (encoding != 0) {
      return Status::not_implemented("encoding " + std::to_string(encoding));
    }
    PS_RETURN_IF_ERROR(append_values(in, reps, defs, idx, dict, col));
    done += static_cast<int64_t>(n);
  }
  return Status::ok();
}

}  // namespace

namespace {

// The file's footer: its metadata and the offset where the footer starts.
struct Footer {
  TValue meta;
  uint64_t data_end = 0;  // column chunks lie in [4, data_end)
};

core::Result<Footer> read_footer(uint64_t size, const RangeReader& read, const std::string& path) {
  if (size < 12) return Status::corruption(path + " is not a Parquet file");
  PS_ASSIGN_OR_RETURN(std::string_view tail, read(size - 8, 8));
  if (tail.size() != 8 || tail.compare(4, 4, "PAR1") != 0)
    return Status::corruption(path + " is not a Parquet file");
  size_t len = get_le(tail.data(), 4);
  if (len + 12 > size) return Status::corruption(path + ": bad footer length");
  Footer f;
  f.data_end = size - 8 - len;
  PS_ASSIGN_OR_RETURN(std::string_view footer, read(f.data_end, len));
  ThriftReader r(footer);
  if (footer.size() != len || !r.read_struct(f.meta) || !f.meta.get(2))
    return Status::corruption(path + ": unreadable footer");
  return f;
}

// The schema part of the contents: the roots, one empty leaf per column.
ParquetContents empty_contents(const TValue& meta) {
  ParquetContents out;
  const auto& elems = meta.get(2)->list;
  size_t i = 1;
  int64_t top = elems.empty() ? 0 : elems[0].num(5);
  for (int64_t k = 0; k < top && i < elems.size(); ++k) out.roots.push_back(to_nodes(elems, i));
  for (auto& spec : leaves_of(out.roots))
    out.leaves.push_back(LeafColumn{std::move(spec), {}, {}, {}});
  if (meta.get(6)) out.created_by = meta.get(6)->bin;
  return out;
}

// Appends row group `g`'s columns to `into`, reading the bytes its chunks span at once.
Status read_group(const TValue& g, const Footer& f, const RangeReader& read,
                  const std::string& path, ParquetContents& into) {
  const TValue* cols = g.get(1);
  if (!cols || cols->list.size() != into.leaves.size())
    return Status::corruption(path + ": column count mismatch");
  struct Chunk {
    int64_t start, size;
    const TValue* md;
  };
  std::vector<Chunk> chunks;
  int64_t lo = INT64_MAX, hi = 0;
  for (const auto& c : cols->list) {
    const TValue* md = c.get(3);
    if (!md) return Status::corruption(path + ": column chunk without metadata");
    int64_t start = md->get(11) ? md->num(11) : md->num(9);
    int64_t size = md->num(7);
    if (start < 4 || size < 0 || static_cast<uint64_t>(start + size) > f.data_end)
      return Status::corruption(path + ": column chunk out of bounds");
    chunks.push_back({start, size, md});
    lo = std::min(lo, start);
    hi = std::max(hi, start + size);
  }
  if (chunks.empty()) return Status::ok();
  PS_ASSIGN_OR_RETURN(std::string_view bytes,
                      read(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi - lo)));
  if (bytes.size() != static_cast<size_t>(hi - lo))
    return Status::corruption(path + ": shorter than its footer says");
  for (size_t c = 0; c < chunks.size(); ++c) {
    std::string_view chunk = bytes.substr(static_cast<size_t>(chunks[c].start - lo),
                                          static_cast<size_t>(chunks[c].size));
    PS_RETURN_IF_ERROR(
        read_chunk(chunk, chunks[c].md->num(5), chunks[c].md->num(4), into.leaves[c]));
  }
  return Status::ok();
}

}  // namespace

core::Result<ParquetContents> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::io("cannot read " + path);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return read_bytes(data, path);
}

core::Result<ParquetContents> read_bytes(std::string_view data, const std::string& path) {
  RangeReader in_memory = [data](uint64_t offset,
                                 uint64_t length) -> core::Result<std::string_view> {
    if (offset > data.size()) return std::string_view();
    return data.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  };
  PS_ASSIGN_OR_RETURN(Footer f, read_footer(data.size(), in_memory, path));
  if (data.compare(0, 4, "PAR1") != 0) return Status::corruption(path + " is not a Parquet file");
  ParquetContents out = empty_contents(f.meta);
  out.rows = f.meta.num(3);
  if (const TValue* groups = f.meta.get(4))
    for (const auto& g : groups->list) PS_RETURN_IF_ERROR(read_group(g, f, in_memory, path, out));
  return out;
}

Status read_row_groups(uint64_t size, const RangeReader& read, const std::string& path,
                       const std::function<Status(ParquetContents&)>& each) {
  PS_ASSIGN_OR_RETURN(Footer f, read_footer(size, read, path));
  int64_t rows = 0;
  if (const TValue* groups = f.meta.get(4)) {
    for (const auto& g : groups->list) {
      ParquetContents group = empty_contents(f.meta);
      group.rows = g.num(3);
      rows += group.rows;
      PS_RETURN_IF_ERROR(read_group(g, f, read, path, group));
      PS_RETURN_IF_ERROR(each(group));
    }
  }
  if (rows != f.meta.num(3))
    return Status::corruption(path + ": its row groups hold " + std::to_string(rows) +
                              " rows, its footer says " + std::to_string(f.meta.num(3)));
  return Status::ok();
}

}  // namespace pinstream::connectors::parquet
