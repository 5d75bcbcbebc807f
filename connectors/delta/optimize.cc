#include "connectors/delta/optimize.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "connectors/delta/log_store.h"
#include "connectors/parquet/reader.h"
#include "stream/core/crc32c.h"

namespace pinstream::connectors::delta {
namespace fs = std::filesystem;
using core::Status;
using core::Type;
using nlohmann::json;

namespace {

std::string partition_key(const AddFile& a) { return json(a.partition_values).dump(); }

// Rows of a compaction handed on at once: a row group's rows are built a slice at a time.
constexpr size_t kSliceRows = 4096;

// The rows of a row group of a file we wrote, columns in `data_schema` order (partition
// columns excluded), handed to `each` kSliceRows at a time. The values are moved out of `c`:
// a compaction holds its row group decoded once plus one slice of rows, not twice (the
// peak of a compaction of large files).
Status decode_rows(parquet::ParquetContents& c, const core::Schema& data_schema,
                   const std::function<Status(const std::vector<core::Row>&)>& each) {
  const size_t width = data_schema.size(), total = static_cast<size_t>(c.rows);
  if (c.leaves.size() != width)
    return Status::corruption("data file has " + std::to_string(c.leaves.size()) +
                              " columns, the table " + std::to_string(width));
  for (size_t col = 0; col < width; ++col)
    if (data_schema.field(col).type != Type::kDoubleArray && c.leaves[col].values.size() != total)
      return Status::corruption("short column");
  std::vector<size_t> next(width, 0);  // per list column: its next entry
  std::vector<core::Row> rows;
  for (size_t first = 0; first < total; first += kSliceRows) {
    const size_t n = std::min(kSliceRows, total - first);
    rows.assign(n, core::Row(width));
    for (size_t col = 0; col < width; ++col) {
      parquet::LeafColumn& leaf = c.leaves[col];
      const Type type = data_schema.field(col).type;
      if (type != Type::kDoubleArray) {
        for (size_t r = 0; r < n; ++r) {
          core::Value& v = rows[r][col];
          v = std::move(leaf.values[first + r]);
          if (type == Type::kTimestamp && !v.is_null()) v.set_timestamp(v.i);
        }
        continue;
      }
      // def 0: null list, 1: empty list, 2: null element (NaN), 3: a value (writer.cc).
      int64_t r = -1;
      for (size_t& e = next[col]; e < leaf.values.size(); ++e) {
        if (leaf.rep[e] == 0 && ++r == static_cast<int64_t>(n)) break;  // the next slice's
        if (r < 0) return Status::corruption("bad repetition levels");
        core::Value& cell = rows[static_cast<size_t>(r)][col];
        if (leaf.def[e] == 0) continue;
        if (leaf.rep[e] == 0) cell = core::Value::of_array({});
        if (leaf.def[e] == 2) cell.arr.push_back(std::numeric_limits<double>::quiet_NaN());
        if (leaf.def[e] >= 3) cell.arr.push_back(leaf.values[e].d);
      }
    }
    PS_RETURN_IF_ERROR(each(rows));
  }
  for (size_t col = 0; col < width; ++col)
    if (data_schema.field(col).type == Type::kDoubleArray &&
        next[col] != c.leaves[col].values.size())
      return Status::corruption("bad repetition levels");
  return Status::ok();
}

// Row groups of compacted files: 16 MiB of encoded data (readers do well from 8 MiB on).
constexpr int64_t kRowGroupBytes = 16 << 20;

// Writes one output file from consecutive inputs of one partition. It is cut on its own
// size, not its inputs': merged rows compress better than the inputs did, and an output
// cut at input bytes would sit just under the target and be compacted again.
class OutputFile {
 public:
  OutputFile(DeltaTable& t, core::Schema data_schema, const AddFile& first, int64_t target)
      : t_(t), schema_(std::move(data_schema)) {
    // The size is known a finished page at a time: pages small beside the target (only
    // small targets, as in tests, get pages below the default).
    writer_opts_.page_bytes = std::clamp<int64_t>(target / 64, 256, writer_opts_.page_bytes);
    // A row group is buffered encoded until it is full: bounded so that a compaction's
    // memory does not grow with its output file.
    writer_opts_.row_group_bytes = std::min<int64_t>(writer_opts_.row_group_bytes, kRowGroupBytes);
    std::string dir = fs::path(first.path).parent_path().string();
    add_.path = (dir.empty() ? "" : dir + "/") + "part-00000-" + uuid4() + "-c000.snappy.parquet";
    add_.partition_values = first.partition_values;
    std::string root = t.dir().rfind("file://", 0) == 0 ? t.dir().substr(7) : t.dir();
    remote_ = objstore::is_remote_url(root);
    local_ =
        remote_
            ? (fs::temp_directory_path() / "pinstream-optimize" / ("part-" + uuid4() + ".parquet"))
                  .string()
            : root + "/" + data_key(add_.path);
  }
  Status open() {
    std::error_code ec;
    fs::create_directories(fs::path(local_).parent_path(), ec);
    PS_ASSIGN_OR_RETURN(file_, parquet::FileWriter::create(local_, schema_, writer_opts_));
    return Status::ok();
  }
  Status append(const std::vector<core::Row>& rows) {
    std::vector<const core::Row*> ptrs;
    for (const auto& r : rows) ptrs.push_back(&r);
    return file_->append_rows(ptrs.data(), ptrs.size());
  }
  // Closes (fsynced) and, for a remote table, uploads; the add action of the file.
  core::Result<AddFile> finish() {
    PS_RETURN_IF_ERROR(file_->close());
    if (remote_) {
      PS_RETURN_IF_ERROR(t_.store().put_file(data_key(add_.path), local_));
      std::error_code ec;
      fs::remove(local_, ec);
    }
    add_.size = file_->bytes_written();
    add_.modification_time = now_ms();
    add_.num_records = file_->rows();
    add_.stats_json = stats_json(schema_, file_->rows(), file_->stats());
    add_.tags[kCrc32cTag] = core::crc32c_hex(file_->crc32c());
    return add_;
  }
  void discard() {
    std::error_code ec;
    if (remote_) fs::remove(local_, ec);
    (void)t_.store().remove(data_key(add_.path));
  }
  const std::string& path() const { return add_.path; }
  int64_t stored_bytes() const { return file_->stored_bytes(); }

 private:
  DeltaTable& t_;
  core::Schema schema_;
  AddFile add_;
  bool remote_ = false;
  parquet::WriterOptions writer_opts_;
  std::string local_;
  std::unique_ptr<parquet::FileWriter> file_;
};

std::string remove_line(const AddFile& a, int64_t ts) {
  json r = {{"path", a.path},
            {"deletionTimestamp", ts},
            {"dataChange", false},
            {"extendedFileMetadata", true},
            {"partitionValues", json::parse(a.to_json())["partitionValues"]},
            {"size", a.size}};
  return json({{"remove", r}}).dump() + "\n";
}

std::string add_line(const AddFile& a) {
  json j = json::parse(a.to_json());
  j["dataChange"] = false;
  return json({{"add", j}}).dump() + "\n";
}

core::Schema data_schema_of(const DeltaTable& t, const Snapshot& snap) {
  json meta = json::parse(snap.metadata_json, nullptr, false);
  std::vector<std::string> parts;
  if (!meta.is_discarded()) parts = meta.value("partitionColumns", parts);
  core::Schema out;
  for (const auto& f : t.schema().fields())
    if (std::find(parts.begin(), parts.end(), f.name) == parts.end()) out.add(f);
  return out;
}

struct Round {
  std::vector<AddFile> inputs, outputs;
};

// Appends the rows of input file `in` to `out` one row group at a time (ranged reads of
// the store): a compaction holds one row group of one input in memory, not whole files.
Status copy_rows(DeltaTable& t, const AddFile& in, const core::Schema& data_schema, OutputFile& out,
                 int64_t& rows) {
  const std::string key = data_key(in.path);
  uint64_t size = in.size > 0 ? static_cast<uint64_t>(in.size) : 0;
  if (size == 0) {
    PS_ASSIGN_OR_RETURN(size, t.store().size(key));
  }
  std::string buffer;
  parquet::RangeReader read = [&](uint64_t offset,
                                  uint64_t length) -> core::Result<std::string_view> {
    PS_ASSIGN_OR_RETURN(buffer, t.store().get(key, objstore::ByteRange{offset, length}));
    return std::string_view(buffer);
  };
  return parquet::read_row_groups(
      size, read, t.dir() + "/" + in.path, [&](parquet::ParquetContents& group) -> Status {
        std::string().swap(buffer);  // decoded: the group's bytes are not needed any more
        return decode_rows(group, data_schema, [&](const std::vector<core::Row>& slice) {
          rows += static_cast<int64_t>(slice.size());
          return out.append(slice);
        });
      });
}

// Rewrites `inputs` (one partition) into files of about the target size.
Status rewrite(DeltaTable& t, const core::Schema& data_schema, const OptimizeOptions& opts,
               Round& round) {
  std::unique_ptr<OutputFile> out;
  auto close_out = [&]() -> Status {
    if (!out) return Status::ok();
    auto add = out->finish();
    if (!add) return add.error();
    round.outputs.push_back(std::move(*add));
    out.reset();
    return Status::ok();
  };
  for (const AddFile& in : round.inputs) {
    if (opts.stop && opts.stop->load()) return Status::aborted("stopping");
    if (!out) {
      out = std::make_unique<OutputFile>(t, data_schema, in, opts.target_file_bytes);
      PS_RETURN_IF_ERROR(out->open());
    }
    int64_t rows = 0;
    Status st = copy_rows(t, in, data_schema, *out, rows);
    if (st.is_ok() && rows != in.num_records && in.num_records > 0)
      st = Status::corruption("data file " + t.dir() + "/" + in.path + " holds " +
                              std::to_string(rows) + " rows, its add action says " +
                              std::to_string(in.num_records));
    if (!st.is_ok()) {
      out->discard();
      return st;
    }
    if (out->stored_bytes() >= opts.target_file_bytes) PS_RETURN_IF_ERROR(close_out());
    if (opts.between_files && &in != &round.inputs.back()) opts.between_files(round.inputs);
  }
  return close_out();
}

std::string round_actions(const Round& round, OptimizeReport& r) {
  int64_t ts = now_ms(), in_bytes = 0, out_bytes = 0;
  std::string body;
  for (const auto& a : round.inputs) body += remove_line(a, ts), in_bytes += a.size;
  for (const auto& a : round.outputs) body += add_line(a), out_bytes += a.size;
  json metrics = {{"numRemovedFiles", std::to_string(round.inputs.size())},
                  {"numAddedFiles", std::to_string(round.outputs.size())},
                  {"numRemovedBytes", std::to_string(in_bytes)},
                  {"numAddedBytes", std::to_string(out_bytes)}};
  std::string info = commit_info_line("OPTIMIZE", R"({"predicate":"[]","auto":"false"})");
  json ci = json::parse(info);
  ci["commitInfo"]["operationMetrics"] = metrics;
  ci["commitInfo"]["isBlindAppend"] = false;
  r.removed_bytes += in_bytes;
  r.added_bytes += out_bytes;
  return ci.dump() + "\n" + body;
}

// Per partition, the files to compact (oldest first): tiered, select_tiered's; else every
// small file of a partition holding at least min_files of them.
std::map<std::string, std::vector<AddFile>> plan(const Snapshot& snap, const OptimizeOptions& o) {
  std::map<std::string, std::vector<AddFile>> parts;
  for (const auto& [path, a] : snap.active)
    if (a.size < o.target_file_bytes) parts[partition_key(a)].push_back(a);
  for (auto& [k, files] : parts) {
    std::sort(files.begin(), files.end(), [](const AddFile& a, const AddFile& b) {
      return a.modification_time != b.modification_time ? a.modification_time < b.modification_time
                                                        : a.path < b.path;
    });
    if (o.tiered) files = select_tiered(files, o);
    if (o.busy && std::any_of(files.begin(), files.end(), [&](const AddFile& a) {
          return std::any_of(o.busy->begin(), o.busy->end(),
                             [&](const AddFile& b) { return a.path == b.path; });
        }))
      files.clear();
  }
  // Tiered: select_tiered's F files or more (F <= min_files); else min_files or more.
  const int64_t least = o.tiered ? 1 : o.min_files;
  for (auto it = parts.begin(); it != parts.end();)
    it = static_cast<int64_t>(it->second.size()) < least ? parts.erase(it) : std::next(it);
  return parts;
}

}  // namespace

core::Result<std::vector<std::string>> list_tables(ObjectStore& root) {
  PS_ASSIGN_OR_RETURN(auto objects, root.list(""));
  std::set<std::string> names;
  const std::string marker = std::string("/") + kLogPrefix;
  for (const auto& o : objects) {
    size_t at = o.key.find(marker);
    if (at != std::string::npos && at > 0 && o.key.find('/') == at)
      names.insert(o.key.substr(0, at));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

bool needs_optimize(const Snapshot& snap, const OptimizeOptions& opts) {
  return !plan(snap, opts).empty();
}

namespace {

enum class Outcome { kCommitted, kConflict, kNone, kStopped };

int64_t small_in(const Snapshot& snap, const std::string& key, int64_t target) {
  int64_t n = 0;
  for (const auto& [path, a] : snap.active) n += a.size < target && partition_key(a) == key;
  return n;
}

// One round of partition `key`, planned from the latest snapshot.
core::Result<Outcome> run_round(DeltaTable& table, const core::Schema& data_schema,
                                const OptimizeOptions& opts, const std::string& key,
                                OptimizeReport& report) {
  PS_ASSIGN_OR_RETURN(const Snapshot* snap, table.latest_snapshot());
  auto parts = plan(*snap, opts);
  auto it = parts.find(key);
  if (it == parts.end()) return Outcome::kNone;  // compacted meanwhile (another process)
  const int64_t planned = snap->version;
  const bool at_trigger =
      small_in(*snap, key, opts.target_file_bytes) >= trigger_files(opts) && opts.tiered;
  Round round;
  round.inputs = std::move(it->second);
  Status st = rewrite(table, data_schema, opts, round);
  auto discard = [&] {
    for (const auto& a : round.outputs) (void)table.store().remove(data_key(a.path));
  };
  if (!st.is_ok()) {
    discard();
    if (st.code() == core::StatusCode::kAborted) return Outcome::kStopped;
    return st;
  }
  OptimizeReport delta;
  std::string actions = round_actions(round, delta);
  int64_t landed = 0, peak = 0;
  auto valid = [&](const Snapshot& s) {
    for (const auto& a : round.inputs)
      if (!s.active.count(a.path)) return false;
    landed = s.version - planned;
    peak = small_in(s, key, opts.target_file_bytes);
    return true;
  };
  if (opts.before_commit) opts.before_commit();
  auto committed = table.commit_checked(actions, valid);
  if (!committed.has_value() || !committed->has_value()) {
    discard();  // nobody references them: no reader can see them
    if (!committed.has_value()) return committed.error();
    ++report.conflicts;
    return Outcome::kConflict;
  }
  ++report.commits;
  report.removed_files += static_cast<int64_t>(round.inputs.size());
  report.added_files += static_cast<int64_t>(round.outputs.size());
  report.removed_bytes += delta.removed_bytes;
  report.added_bytes += delta.added_bytes;
  report.max_landed = std::max(report.max_landed, landed);
  if (at_trigger) report.peak_small = std::max(report.peak_small, peak);
  report.last_output_bytes = round.outputs.empty() ? 0 : round.outputs.front().size;
  for (const auto& a : round.outputs)
    report.last_output_bytes = std::min(report.last_output_bytes, a.size);
  return Outcome::kCommitted;
}

}  // namespace

int64_t most_small_files(const Snapshot& snap, const OptimizeOptions& opts) {
  std::map<std::string, int64_t> counts;
  int64_t most = 0;
  for (const auto& [path, a] : snap.active)
    if (a.size < opts.target_file_bytes) most = std::max(most, ++counts[partition_key(a)]);
  return most;
}

core::Result<OptimizeReport> optimize_table(DeltaTable& table, const OptimizeOptions& opts) {
  OptimizeReport report;
  PS_ASSIGN_OR_RETURN(const Snapshot* snap, table.latest_snapshot());
  core::Schema data_schema = data_schema_of(table, *snap);
  std::vector<std::string> keys;
  for (const auto& [k, files] : plan(*snap, opts)) keys.push_back(k);
  for (const std::string& key : keys) {
    OptimizeOptions o = opts;
    int rounds = 0;
    for (int attempt = 0; attempt < o.max_attempts; ++attempt) {
      PS_ASSIGN_OR_RETURN(Outcome done, run_round(table, data_schema, o, key, report));
      if (done == Outcome::kStopped) return report;
      if (done == Outcome::kNone) break;
      if (done == Outcome::kConflict) {
        spdlog::info("optimize: an input of {} was removed by a concurrent commit; {}", table.dir(),
                     attempt + 1 < o.max_attempts ? "planning again" : "giving up this round");
        continue;
      }
      if (!o.tiered || ++rounds >= o.max_rounds) break;
      o.cascade_from = report.last_output_bytes;  // the cascade this round may have started
      attempt = -1;                               // the next tier's round, with fresh attempts
    }
  }
  return report;
}

}  // namespace pinstream::connectors::delta
