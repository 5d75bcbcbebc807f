#include "connectors/delta/checkpoint.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "connectors/delta/log_cleanup.h"
#include "connectors/parquet/columnar_file.h"
#include "connectors/parquet/reader.h"

namespace pinstream::connectors::delta {
using core::Status;
using nlohmann::json;
namespace pq = parquet;
using pq::Logical;
using pq::Node;
using pq::Physical;

namespace {

Node str(const char* n) { return Node::leaf(n, Physical::kByteArray, Logical::kString); }
Node i64(const char* n) { return Node::leaf(n, Physical::kInt64); }
Node i32(const char* n) { return Node::leaf(n, Physical::kInt32); }
Node boolean(const char* n) { return Node::leaf(n, Physical::kBoolean); }
Node str_map(const char* n) { return Node::map(n, str("key"), str("value")); }

std::vector<Node> checkpoint_schema() {
  return {
      Node::group("txn", {str("appId"), i64("version"), i64("lastUpdated")}),
      Node::group("add",
                  {str("path"), str_map("partitionValues"), i64("size"), i64("modificationTime"),
                   boolean("dataChange"), str("stats"), str_map("tags")}),
      Node::group("remove",
                  {str("path"), i64("deletionTimestamp"), boolean("dataChange"),
                   boolean("extendedFileMetadata"), str_map("partitionValues"), i64("size")}),
      Node::group("metaData", {str("id"), str("name"), str("description"),
                               Node::group("format", {str("provider"), str_map("options")}),
                               str("schemaString"), Node::list("partitionColumns", str("element")),
                               str_map("configuration"), i64("createdTime")}),
      Node::group("protocol", {i32("minReaderVersion"), i32("minWriterVersion"),
                               Node::list("readerFeatures", str("element")),
                               Node::list("writerFeatures", str("element"))}),
  };
}

size_t leaf_count(const Node& n) {
  if (n.is_leaf()) return 1;
  size_t k = 0;
  for (const auto& c : n.children) k += leaf_count(c);
  return k;
}

// Dremel striping of one JSON value under `n`: `def` levels defined above n, `rep` the
// repetition level of this entry, `depth` the number of repeated ancestors.
void stripe(pq::ColumnarFile& f, const Node& n, const json* v, int def, int rep, int depth,
            size_t& leaf) {
  bool present = v && !v->is_null();
  if (!present) {
    for (size_t k = 0, c = leaf_count(n); k < c; ++k) f.column(leaf++).add_null(def, rep);
    return;
  }
  int d = def + (n.repetition == pq::Repetition::kRequired ? 0 : 1);
  if (n.is_leaf()) {
    pq::ColumnWriter& c = f.column(leaf++);
    switch (n.physical) {
      case Physical::kInt64:
        c.add_i64(v->get<int64_t>(), rep);
        break;
      case Physical::kInt32:
        c.add_i32(v->get<int32_t>(), rep);
        break;
      case Physical::kBoolean:
        c.add_bool(v->get<bool>(), rep);
        break;
      default:
        c.add_bytes(v->is_string() ? v->get<std::string>() : v->dump(), rep);
        break;
    }
    return;
  }
  if (n.logical == Logical::kList || n.logical == Logical::kMap) {
    const Node& inner = n.children[0];  // the repeated group
    size_t first = leaf;
    if (v->empty()) {
      for (size_t k = 0, c = leaf_count(inner); k < c; ++k) f.column(leaf++).add_null(d, rep);
      return;
    }
    bool is_first = true;
    auto each = [&](const json& elem) {
      leaf = first;
      stripe(f, inner, &elem, d, is_first ? rep : depth + 1, depth + 1, leaf);
      is_first = false;
    };
    if (n.logical == Logical::kList) {
      for (const auto& e : *v) each(json{{"element", e}});
    } else {
      for (const auto& [k, val] : v->items()) each(json{{"key", k}, {"value", val}});
    }
    return;
  }
  for (const auto& c : n.children) {
    const json* child = v->contains(c.name) ? &(*v)[c.name] : nullptr;
    stripe(f, c, child, d, rep, depth, leaf);
  }
}

// The checkpoint is encoded into an anonymous memory file (our Parquet writer writes to a
// path) and put into the store whole: no temp file on disk, the same on S3 and locally.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("pinstream-delta-checkpoint", MFD_CLOEXEC)) {}
  ~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  core::Result<std::string> contents() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return Status::io(std::string("cannot stat a memory file: ") + std::strerror(errno));
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (n <= 0) return Status::io("short read of a memory file");
      done += static_cast<size_t>(n);
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace

std::string checkpoint_path(const std::string& log_dir, int64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "/%020lld.checkpoint.parquet", static_cast<long long>(version));
  return log_dir + buf;
}

Status write_checkpoint(ObjectStore& table, const Snapshot& snap) {
  std::vector<json> rows;
  json protocol = {{"minReaderVersion", snap.min_reader}, {"minWriterVersion", snap.min_writer}};
  if (!snap.reader_features.empty()) protocol["readerFeatures"] = snap.reader_features;
  if (!snap.writer_features.empty()) protocol["writerFeatures"] = snap.writer_features;
  rows.push_back({{"protocol", protocol}});
  json meta = json::parse(snap.metadata_json, nullptr, false);
  if (!meta.is_discarded()) rows.push_back({{"metaData", meta}});
  for (const auto& [app, v] : snap.txn) {
    auto it = snap.txn_updated.find(app);
    rows.push_back({{"txn",
                     {{"appId", app},
                      {"version", v},
                      {"lastUpdated", it == snap.txn_updated.end() ? 0 : it->second}}}});
  }
  for (const auto& [path, a] : snap.active) {
    json j = json::parse(a.to_json());
    j["dataChange"] = false;  // checkpoint actions are reconciliation, not changes
    rows.push_back({{"add", j}});
  }
  // Tombstones older than the deleted-file retention are dropped, as Delta does: VACUUM
  // has no more use for them (their files count as orphans then), and a table compacted
  // every few seconds would otherwise carry every one of them in every checkpoint.
  const int64_t expired = now_ms() - table_interval_ms(snap, "delta.deletedFileRetentionDuration",
                                                       kDefaultDeletedFileRetentionMs);
  for (const auto& [path, ts] : snap.removed) {
    if (ts < expired) continue;
    rows.push_back({{"remove",
                     {{"path", path},
                      {"deletionTimestamp", ts},
                      {"dataChange", false},
                      {"extendedFileMetadata", false}}}});
  }
  MemoryFile mem;
  if (!mem.ok())
    return Status::io(std::string("cannot create a memory file: ") + std::strerror(errno));
  pq::ChunkOptions chunk;
  std::vector<Node> schema = checkpoint_schema();
  PS_ASSIGN_OR_RETURN(auto file, pq::ColumnarFile::create(mem.path(), schema, chunk, 64 << 20));
  for (const auto& r : rows) {
    size_t leaf = 0;
    for (const auto& n : schema) {
      const json* v = r.contains(n.name) ? &r[n.name] : nullptr;
      stripe(*file, n, v, 0, 0, 0, leaf);
    }
    PS_RETURN_IF_ERROR(file->end_rows());
  }
  PS_RETURN_IF_ERROR(file->close());
  PS_ASSIGN_OR_RETURN(std::string bytes, mem.contents());
  PS_RETURN_IF_ERROR(table.put(checkpoint_key(snap.version), bytes));
  json last = {{"version", snap.version},
               {"size", rows.size()},
               {"sizeInBytes", bytes.size()},
               {"numOfAddFiles", snap.active.size()}};
  return table.put(kLastCheckpointKey, last.dump());
}

core::Result<std::optional<int64_t>> last_checkpoint(ObjectStore& table) {
  auto text = table.get(kLastCheckpointKey);
  if (!text) {
    if (text.error().code() == core::StatusCode::kNotFound) return std::optional<int64_t>();
    return text.error();
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("version") ||
      !j["version"].is_number_integer())
    return std::optional<int64_t>();
  return std::optional<int64_t>(j["version"].get<int64_t>());
}
namespace {

struct Range {
  size_t begin = 0, end = 0;
};

json to_json(const core::Value& v) {
  switch (v.type) {
    case core::Type::kLong:
      return v.i;
    case core::Type::kDouble:
      return v.d;
    case core::Type::kBool:
      return v.b;
    case core::Type::kString:
      return v.s;
    default:
      return nullptr;
  }
}

// Reassembles entry `k` of the current record under `n` (the inverse of stripe()).
json assemble(const pq::ParquetContents& c, const std::vector<Range>& rows, const Node& n, int def,
              size_t& leaf, size_t k) {
  int d = def + (n.repetition == pq::Repetition::kRequired ? 0 : 1);
  size_t first = leaf;
  const pq::LeafColumn& col = c.leaves[first];
  size_t at = rows[first].begin + k;
  if (n.is_leaf()) {
    ++leaf;
    return col.def[at] >= col.spec.max_def ? to_json(col.values[at]) : json(nullptr);
  }
  leaf += leaf_count(n);
  if (col.def[at] < d) return nullptr;
  if (n.logical == Logical::kList || n.logical == Logical::kMap) {
    bool list = n.logical == Logical::kList;
    json out = list ? json::array() : json::object();
    if (col.def[at] == d) return out;
    for (size_t j = 0; j < rows[first].end - rows[first].begin; ++j) {
      size_t l = first;
      json e = assemble(c, rows, n.children[0], d, l, j);
      if (list)
        out.push_back(e["element"]);
      else
        out[e["key"].is_string() ? e["key"].get<std::string>() : e["key"].dump()] = e["value"];
    }
    return out;
  }
  json out = json::object();
  size_t l = first;
  for (const auto& child : n.children) {
    json v = assemble(c, rows, child, d, l, k);
    if (!v.is_null()) out[child.name] = std::move(v);
  }
  return out;
}

}  // namespace

core::Result<Snapshot> read_checkpoint(const std::string& log_dir, int64_t version) {
  PS_ASSIGN_OR_RETURN(auto store,
                      objstore::open_store(std::filesystem::path(log_dir).parent_path().string()));
  return read_checkpoint(*store, version);
}

core::Result<Snapshot> read_checkpoint(ObjectStore& table, int64_t version) {
  const std::string key = checkpoint_key(version);
  PS_ASSIGN_OR_RETURN(std::string bytes, table.get(key));
  PS_ASSIGN_OR_RETURN(pq::ParquetContents c, pq::read_bytes(bytes, table.describe() + "/" + key));
  std::vector<size_t> pos(c.leaves.size(), 0);
  std::vector<Range> rows(c.leaves.size());
  std::string text;  // the checkpoint's actions as commit lines, applied like a commit
  for (int64_t r = 0; r < c.rows; ++r) {
    for (size_t l = 0; l < c.leaves.size(); ++l) {
      const auto& col = c.leaves[l];
      size_t e = pos[l];
      if (e >= col.def.size())
        return Status::corruption("checkpoint " + std::to_string(version) + " is truncated");
      ++e;
      while (e < col.rep.size() && col.rep[e] != 0) ++e;
      rows[l] = Range{pos[l], e};
      pos[l] = e;
    }
    size_t leaf = 0;
    for (const auto& n : c.roots) {
      json v = assemble(c, rows, n, 0, leaf, 0);
      if (!v.is_null()) text += json({{n.name, v}}).dump() + "\n";
    }
  }
  Snapshot s;
  PS_RETURN_IF_ERROR(s.apply_commit(text));
  s.version = version;
  return s;
}

}  // namespace pinstream::connectors::delta
