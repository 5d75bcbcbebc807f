#include "connectors/parquet/reader.h"

#include <snappy.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "connectors/parquet/encoding.h"

namespace pinstream::connectors::parquet {
using core::Status;

namespace {

// A decoded Thrift compact value: integers, binaries, lists and structs (by field id).
struct TValue {
  int64_t i = 0;
  std::string bin;
  std::vector<TValue> list;
  std::map<int16_t, TValue> fields;
  const TValue* get(int16_t id) const {
    auto it = fields.find(id);
    return it == fields.end() ? nullptr : &it->second;
  }
  int64_t num(int16_t id, int64_t dflt = 0) const {
    const TValue* v = get(id);
    return v ? v->i : dflt;
  }
};

class ThriftReader {
 public:
  explicit ThriftReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t consumed(std::string_view start) const { return start.size() - in_.size(); }
  bool read_struct(TValue& out, int depth = 0) {
    int16_t last = 0;
    while (ok_) {
      uint8_t b = byte();
      if (b == 0) return ok_;
      uint8_t type = b & 0x0F;
      int16_t delta = static_cast<int16_t>(b >> 4);
      int16_t id =
          delta ? static_cast<int16_t>(last + delta) : static_cast<int16_t>(unzigzag(varint()));
      last = id;
      if (!read_value(type, out.fields[id], depth + 1)) return false;
    }
    return false;
  }

 private:
  uint8_t byte() {
    if (in_.empty()) {
      ok_ = false;
      return 0;
    }
    auto b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int s = 0; s < 64 && ok_; s += 7) {
      uint8_t b = byte();
      v |= uint64_t{b & 0x7Fu} << s;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  static int64_t unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  bool read_value(uint8_t type, TValue& v, int depth) {
    if (depth > 32) return ok_ = false;
    switch (type) {
      case 1:
        v.i = 1;
        return true;  // bool true (in a struct field header)
      case 2:
        v.i = 0;
        return true;
      case 3:
        v.i = static_cast<int8_t>(byte());
        return ok_;
      case 4:
      case 5:
      case 6:
        v.i = unzigzag(varint());
        return ok_;
      case 7:
        if (in_.size() < 8) return ok_ = false;
        in_.remove_prefix(8);
        return true;
      case 8: {
        uint64_t n = varint();
        if (n > in_.size()) return ok_ = false;
        v.bin.assign(in_.data(), n);
        in_.remove_prefix(n);
        return ok_;
      }
      case 9:
      case 10: {
        uint8_t h = byte();
        uint64_t n = h >> 4;
        if (n == 15) n = varint();
        uint8_t et = h & 0x0F;
        if (n > in_.size() + 1) return ok_ = false;
        v.list.resize(n);
        for (auto& e : v.list) {
          if (et == 1 || et == 2)
            e.i = byte() == 1;
          else if (!read_value(et, e, depth))
            return false;
        }
        return ok_;
      }
      case 12:
        return read_struct(v, depth);
      default:
        return ok_ = false;  // maps never occur in the metadata we read
    }
  }
  std::string_view in_;
  bool ok_ = true;
};

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

core::Result<ParquetContents> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::io("cannot read " + path);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return read_bytes(data, path);
}

core::Result<ParquetContents> read_bytes(std::string_view data, const std::string& path) {
  if (data.size() < 12 || data.compare(0, 4, "PAR1") != 0 ||
      data.compare(data.size() - 4, 4, "PAR1") != 0)
    return Status::corruption(path + " is not a Parquet file");
  size_t len = get_le(data.data() + data.size() - 8, 4);
  if (len + 12 > data.size()) return Status::corruption(path + ": bad footer length");
  std::string_view footer(data.data() + data.size() - 8 - len, len);
  ThriftReader r(footer);
  TValue meta;
  if (!r.read_struct(meta) || !meta.get(2)) return Status::corruption(path + ": unreadable footer");
  ParquetContents out;
  const auto& elems = meta.get(2)->list;
  size_t i = 1;
  int64_t top = elems.empty() ? 0 : elems[0].num(5);
  for (int64_t k = 0; k < top && i < elems.size(); ++k) out.roots.push_back(to_nodes(elems, i));
  for (auto& spec : leaves_of(out.roots))
    out.leaves.push_back(LeafColumn{std::move(spec), {}, {}, {}});
  out.rows = meta.num(3);
  if (meta.get(6)) out.created_by = meta.get(6)->bin;
  if (const TValue* groups = meta.get(4)) {
    for (const auto& g : groups->list) {
      const TValue* cols = g.get(1);
      if (!cols || cols->list.size() != out.leaves.size())
        return Status::corruption(path + ": column count mismatch");
      for (size_t c = 0; c < out.leaves.size(); ++c) {
        const TValue* md = cols->list[c].get(3);
        if (!md) return Status::corruption(path + ": column chunk without metadata");
        int64_t start = md->get(11) ? md->num(11) : md->num(9);
        int64_t size = md->num(7);
        if (start < 4 || size < 0 || static_cast<size_t>(start + size) > data.size() - 8 - len)
          return Status::corruption(path + ": column chunk out of bounds");
        std::string_view chunk(data.data() + start, static_cast<size_t>(size));
        PS_RETURN_IF_ERROR(read_chunk(chunk, md->num(5), md->num(4), out.leaves[c]));
      }
    }
  }
  return out;
}

}  // namespace pinstream::connectors::parquet
