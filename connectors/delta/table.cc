#include "connectors/delta/table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/log_store.h"
#include "connectors/delta/protocol.h"
#include "stream/core/crc32c.h"
#include "stream/core/durable_file.h"

namespace pinstream::connectors::delta {
namespace fs = std::filesystem;
using core::Status;
using core::Type;
using nlohmann::json;

namespace {
bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}
}  // namespace

// ---- TableWriter ----

struct TableWriter::Part {
  std::string rel;  // file path relative to the table root
  std::map<std::string, std::string> values;
  std::unique_ptr<parquet::FileWriter> file;
};

TableWriter::TableWriter(std::string write_dir, std::shared_ptr<objstore::ObjectStore> upload_to,
                         core::Schema schema, TableOptions opts)
    : dir_(std::move(write_dir)),
      upload_(std::move(upload_to)),
      schema_(std::move(schema)),
      opts_(std::move(opts)) {
  for (size_t i = 0; i < schema_.size(); ++i) {
    bool part = std::find(opts_.partition_columns.begin(), opts_.partition_columns.end(),
                          schema_.field(i).name) != opts_.partition_columns.end();
    (part ? part_cols_ : data_cols_).push_back(i);
    if (!part) data_schema_.add(schema_.field(i));
  }
}

TableWriter::~TableWriter() = default;

core::Result<TableWriter::Part*> TableWriter::part_for(const core::Row& row) {
  if (row.size() != schema_.size())
    return Status::invalid("row has " + std::to_string(row.size()) + " cells, schema has " +
                           std::to_string(schema_.size()));
  std::string key;
  for (size_t i : part_cols_) {
    if (!row[i].is_null() && row[i].type != schema_.field(i).type)
      return Status::invalid("partition column '" + schema_.field(i).name + "' has the wrong type");
    key += partition_dir(schema_.field(i).name, partition_value(row[i])) + "/";
  }
  auto it = parts_.find(key);
  if (it == parts_.end()) {
    auto p = std::make_unique<Part>();
    for (size_t i : part_cols_) p->values[schema_.field(i).name] = partition_value(row[i]);
    std::error_code ec;
    if (!key.empty() || upload_) fs::create_directories(dir_ + "/" + key, ec);
    if (ec) return Status::io("cannot create " + dir_ + "/" + key + ": " + ec.message());
    p->rel = key + "part-00000-" + uuid4() + "-c000.snappy.parquet";
    PS_ASSIGN_OR_RETURN(
        p->file, parquet::FileWriter::create(dir_ + "/" + p->rel, data_schema_, opts_.parquet));
    it = parts_.emplace(key, std::move(p)).first;
  }
  return it->second.get();
}

Status TableWriter::append(const core::Row& row) {
  PS_ASSIGN_OR_RETURN(Part * part, part_for(row));
  if (part_cols_.empty()) {
    PS_RETURN_IF_ERROR(part->file->append(row));
  } else {
    scratch_.resize(data_cols_.size());
    for (size_t k = 0; k < data_cols_.size(); ++k) scratch_[k] = row[data_cols_[k]];
    PS_RETURN_IF_ERROR(part->file->append(scratch_));
  }
  ++rows_;
  return Status::ok();
}

Status TableWriter::append_rows(const core::Row* const* rows, size_t count) {
  if (count == 0) return Status::ok();
  if (!part_cols_.empty()) {  // rows go to different files
    for (size_t r = 0; r < count; ++r) PS_RETURN_IF_ERROR(append(*rows[r]));
    return Status::ok();
  }
  PS_ASSIGN_OR_RETURN(Part * part, part_for(*rows[0]));
  PS_RETURN_IF_ERROR(part->file->append_rows(rows, count));
  rows_ += static_cast<int64_t>(count);
  return Status::ok();
}

core::Result<std::vector<AddFile>> TableWriter::finish() {
  std::vector<AddFile> out;
  for (auto& [key, p] : parts_) {
    PS_RETURN_IF_ERROR(p->file->close());
    if (upload_) {
      PS_RETURN_IF_ERROR(upload(*p));
    } else {
      PS_RETURN_IF_ERROR(core::fsync_path(fs::path(dir_ + "/" + p->rel).parent_path(), true));
    }
    AddFile a;
    a.path = p->rel;
    a.size = p->file->bytes_written();
    a.modification_time = now_ms();
    a.num_records = p->file->rows();
    a.stats_json = stats_json(data_schema_, p->file->rows(), p->file->stats());
    a.partition_values = p->values;
    a.tags[kCrc32cTag] = core::crc32c_hex(p->file->crc32c());
    out.push_back(std::move(a));
  }
  if (!upload_ && !part_cols_.empty() && !parts_.empty())
    PS_RETURN_IF_ERROR(core::fsync_path(dir_, true));
  parts_.clear();
  return out;
}

Status TableWriter::upload(const Part& p) {
  const std::string local = dir_ + "/" + p.rel;
  std::error_code size_ec;
  const auto staged = fs::file_size(local, size_ec);
  if (size_ec || static_cast<int64_t>(staged) != p.file->bytes_written())
    return Status::io("staged data file " + local + " has " +
                      (size_ec ? size_ec.message() : std::to_string(staged) + " bytes") + ", " +
                      std::to_string(p.file->bytes_written()) + " bytes were written");
  Status st = upload_->put_file(p.rel, local);  // streamed: never whole in memory
  if (!st.is_ok()) return Status(st.code(), "cannot upload " + local + ": " + st.message());
  std::error_code ec;
  fs::remove(local, ec);  // a leftover is deleted with the staging directory at the next start
  return Status::ok();
}

// ---- DeltaTable ----

core::Result<std::unique_ptr<DeltaTable>> DeltaTable::open(const std::string& location,
                                                           const std::string& name,
                                                           const core::Schema& schema,
                                                           TableOptions opts) {
  PS_ASSIGN_OR_RETURN(auto store, open_location(location));
  return open(std::move(store), location, name, schema, std::move(opts));
}

core::Result<std::unique_ptr<DeltaTable>> DeltaTable::open(
    std::shared_ptr<objstore::ObjectStore> store, const std::string& location,
    const std::string& name, const core::Schema& schema, TableOptions opts) {
  return open_read(nullptr, std::move(store), location, name, schema, std::move(opts));
}

core::Result<std::unique_ptr<DeltaTable>> DeltaTable::open_read(
    std::unique_ptr<DeltaTable> read, std::shared_ptr<objstore::ObjectStore> store,
    const std::string& location, const std::string& name, const core::Schema& schema,
    TableOptions opts) {
  for (const auto& c : opts.partition_columns) {
    int i = schema.index_of(c);
    if (i < 0 || schema.field(static_cast<size_t>(i)).type == Type::kDoubleArray)
      return Status::invalid("partition column '" + c + "' is not a scalar column of table " +
                             name);
  }
  const bool was_read = read != nullptr;  // then its log was read just before: not again
  std::unique_ptr<DeltaTable> t =
      read ? std::move(read) : std::unique_ptr<DeltaTable>(new DeltaTable());
  t->store_ = std::move(store);
  t->dir_ = location;
  t->local_dir_ = objstore::is_remote_url(location) ? "" : location;
  if (t->local_dir_.rfind("file://", 0) == 0) t->local_dir_ = t->local_dir_.substr(7);
  if (t->local_dir_.empty() && opts.staging_dir.empty())
    opts.staging_dir = (fs::temp_directory_path() / "pinstream-staging" / name).string();
  t->name_ = name;
  t->schema_ = schema;
  t->opts_ = opts;
  if (!was_read) PS_RETURN_IF_ERROR(t->refresh());
  std::string want = schema_string(schema);
  json parts = opts.partition_columns;
  if (t->snapshot_.version < 0) {
    json meta = {{"id", uuid4()},
                 {"name", name},
                 {"format", {{"provider", "parquet"}, {"options", json::object()}}},
                 {"schemaString", want},
                 {"partitionColumns", parts},
                 {"configuration", json::object()},
                 {"createdTime", now_ms()}};
    std::string text =
        commit_info_line("CREATE TABLE", "{}") + "\n" +
        json({{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}}).dump() + "\n" +
        json({{"metaData", meta}}).dump() + "\n";
    PS_ASSIGN_OR_RETURN(bool won, t->try_write(0, text));
    // Another process may have created it first: then its log is read, and the checks
    // below decide.
    PS_RETURN_IF_ERROR(won ? t->apply_own(0, text) : t->refresh());
  }
  PS_RETURN_IF_ERROR(check_writable(t->snapshot_, location, WriteKind::kAppend));
  PS_RETURN_IF_ERROR(t->evolve_schema(want));
  json have = json::parse(t->snapshot_.metadata_json, nullptr, false);
  if (have.is_discarded() || have.value("partitionColumns", json::array()) != parts)
    return Status::invalid("table " + location +
                           " exists with other partition columns (configured: " + parts.dump() +
                           ")");
  return t;
}

// Put-if-absent of the version's commit: on S3 a PUT with If-None-Match: *, locally a link().
core::Result<bool> DeltaTable::try_write(int64_t version, const std::string& actions) {
  Status st = store_->put_if_absent(commit_key(version), actions);
  if (st.is_ok()) return true;
  if (st.code() == core::StatusCode::kAlreadyExists) return false;
  return Status(st.code(), "cannot commit " + where(commit_key(version)) + ": " + st.message());
}

// Our own commit just landed right after snapshot_.version: applied without reading it back.
Status DeltaTable::apply_own(int64_t version, const std::string& text) {
  if (version != snapshot_.version + 1) return refresh();
  PS_RETURN_IF_ERROR(snapshot_.apply_commit(text));
  snapshot_.version = version;
  return Status::ok();
}

Status DeltaTable::refresh() {
  if (snapshot_.version < 0) {
    PS_ASSIGN_OR_RETURN(std::optional<int64_t> cp, last_checkpoint(*store_));
    if (cp) {
      auto s = read_checkpoint(*store_, *cp);
      if (s.has_value()) {
        snapshot_ = std::move(*s);
        last_checkpoint_ = *cp;
      } else {
        auto zero = store_->size(commit_key(0));
        if (!zero && zero.error().code() != core::StatusCode::kNotFound) return zero.error();
        if (!zero)  // unreadable, and no log to replay instead
          return Status::corruption("cannot read checkpoint " + where(checkpoint_key(*cp)) + " (" +
                                    s.error().message() +
                                    ") and the log before it is gone: the state of table " + dir_ +
                                    " is unknown, so pinstream does not write it");
      }
    }
  }
  while (true) {
    int64_t next = snapshot_.version + 1;
    auto text = store_->get(commit_key(next));
    if (!text) {
      if (text.error().code() == core::StatusCode::kNotFound) return Status::ok();
      return text.error();
    }
    const std::string p = where(commit_key(next));
    // A commit always holds actions: an empty file is a damaged log, not an empty commit.
    if (blank(*text))
      return Status::corruption("Delta commit " + p + " of table " + name_ + " is empty (" +
                                std::to_string(text->size()) +
                                " bytes): the table's log is damaged");
    Status st = snapshot_.apply_commit(*text);
    if (!st.is_ok())
      return Status::corruption("Delta commit " + p + " of table " + name_ +
                                " is unreadable: " + st.message());
    snapshot_.version = next;
  }
}

core::Result<Snapshot> DeltaTable::replay_to(int64_t version) const {
  Snapshot s;
  if (opts_.checkpoint_interval > 0) {
    PS_ASSIGN_OR_RETURN(LogListing log, list_log(*store_));
    auto it = log.checkpoints.upper_bound(version);
    if (it != log.checkpoints.begin()) {
      auto cp = read_checkpoint(*store_, *std::prev(it));
      if (cp.has_value()) s = std::move(*cp);
    }
  }
  for (int64_t v = s.version + 1; v <= version; ++v) {
    PS_ASSIGN_OR_RETURN(std::string text, store_->get(commit_key(v)));
    PS_RETURN_IF_ERROR(s.apply_commit(text));
    s.version = v;
  }
  return s;
}

core::Result<int64_t> DeltaTable::latest_version() {
  PS_RETURN_IF_ERROR(refresh());
  return snapshot_.version;
}

core::Result<std::map<std::string, int64_t>> DeltaTable::txn_versions() {
  PS_RETURN_IF_ERROR(refresh());
  return snapshot_.txn;
}

core::Result<std::optional<int64_t>> DeltaTable::txn_version(const std::string& app_id) {
  PS_RETURN_IF_ERROR(refresh());
  auto it = snapshot_.txn.find(app_id);
  if (it == snapshot_.txn.end()) return std::optional<int64_t>();
  return std::optional<int64_t>(it->second);
}

std::unique_ptr<TableWriter> DeltaTable::new_writer() const {
  if (!local_dir_.empty())
    return std::make_unique<TableWriter>(local_dir_, nullptr, schema_, opts_);
  return std::make_unique<TableWriter>(opts_.staging_dir, store_, schema_, opts_);
}

core::Result<CommitOutcome> DeltaTable::commit(const std::vector<AddFile>& adds,
                                               const std::vector<std::string>& app_ids,
                                               int64_t txn_version) {
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    // The first attempt trusts the snapshot (no read: one round trip less per commit on S3):
    // if the log moved on, that version is taken, and the next attempt re-reads the log.
    if (attempt > 0 || snapshot_.version < 0) PS_RETURN_IF_ERROR(refresh());
    for (const auto& app_id : app_ids) {
      auto it = snapshot_.txn.find(app_id);
      if (it != snapshot_.txn.end() && it->second >= txn_version)
        return CommitOutcome{snapshot_.version, true};
    }
    std::string text = commit_info_line("WRITE", R"({"mode":"Append","partitionBy":"[]"})") + "\n";
    for (const auto& app_id : app_ids)
      text +=
          json({{"txn", {{"appId", app_id}, {"version", txn_version}, {"lastUpdated", now_ms()}}}})
              .dump() +
          "\n";
    for (const auto& a : adds) text += "{\"add\":" + a.to_json() + "}\n";
    int64_t version = snapshot_.version + 1;
    PS_ASSIGN_OR_RETURN(bool won, try_write(version, text));
    if (won) {
      PS_RETURN_IF_ERROR(apply_own(version, text));
      maybe_checkpoint(version);
      return CommitOutcome{version, false};
    }
  }
  return Status::aborted("gave up committing to " + dir_ + " after " +
                         std::to_string(kMaxCommitAttempts) + " lost races for a version");
}

core::Result<int64_t> DeltaTable::restore(int64_t version) {
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    PS_RETURN_IF_ERROR(refresh());
    if (version < 0 || version > snapshot_.version)
      return Status::invalid("cannot restore " + dir_ + " to version " + std::to_string(version) +
                             " (latest is " + std::to_string(snapshot_.version) + ")");
    PS_RETURN_IF_ERROR(check_writable(snapshot_, dir_, WriteKind::kRestore));
    PS_ASSIGN_OR_RETURN(Snapshot target, replay_to(version));
    std::string text = commit_info_line("RESTORE", json({{"version", version}}).dump()) + "\n";
    int64_t ts = now_ms();
    for (const auto& [path, add] : snapshot_.active) {
      if (target.active.count(path)) continue;
      json pv = json::parse(add.to_json())["partitionValues"];
      json r = {{"path", path},          {"deletionTimestamp", ts},
                {"dataChange", true},    {"extendedFileMetadata", true},
                {"partitionValues", pv}, {"size", add.size}};
      text += json({{"remove", r}}).dump() + "\n";
    }
    for (const auto& [path, add] : target.active) {
      if (snapshot_.active.count(path)) continue;
      text += "{\"add\":" + add.to_json() + "}\n";
    }
    int64_t next = snapshot_.version + 1;
    PS_ASSIGN_OR_RETURN(bool won, try_write(next, text));
    if (won) {
      PS_RETURN_IF_ERROR(apply_own(next, text));
      maybe_checkpoint(next);
      return next;
    }
  }
  return Status::aborted("gave up restoring " + dir_);
}

core::Result<std::vector<AddFile>> DeltaTable::active_files() {
  PS_RETURN_IF_ERROR(refresh());
  std::vector<AddFile> out;
  for (const auto& [path, add] : snapshot_.active) out.push_back(add);
  return out;
}

}  // namespace pinstream::connectors::delta
