#include "connectors/delta/inspect.h"

#include <filesystem>

#include "connectors/delta/checkpoint.h"
#include "stream/core/crc32c.h"

namespace pinstream::connectors::delta {
namespace {

// Data files are read back in pieces of this size for their checksum.
constexpr uint64_t kChecksumRead = 8ull << 20;

std::string where(ObjectStore& table, const std::string& key) {
  return table.describe() + "/" + key;
}

std::shared_ptr<ObjectStore> local(const std::string& dir) {
  auto store = objstore::open_store(dir);
  return store ? std::shared_ptr<ObjectStore>(std::move(*store)) : nullptr;
}

// The whole object's CRC-32C, read in ranges; nullopt (with the problem) when unreadable.
std::optional<uint32_t> crc_of(ObjectStore& table, const std::string& key, uint64_t size,
                               std::string* problem) {
  uint32_t crc = 0;
  for (uint64_t at = 0; at < size; at += kChecksumRead) {
    auto part = table.get(key, objstore::ByteRange{at, std::min(kChecksumRead, size - at)});
    if (!part) {
      *problem = "data file " + where(table, key) + " cannot be read: " + part.error().message();
      return std::nullopt;
    }
    crc = core::crc32c_extend(crc, part->data(), part->size());
  }
  return crc;
}

}  // namespace

core::Result<int64_t> max_commit_version(ObjectStore& table) {
  PS_ASSIGN_OR_RETURN(LogListing log, list_log(table));
  return log.commits.empty() ? int64_t{-1} : *log.commits.rbegin();
}

int64_t max_commit_version(const std::string& log_dir) {
  auto store = local(std::filesystem::path(log_dir).parent_path().string());
  if (!store) return -1;
  auto v = max_commit_version(*store);
  return v ? *v : -1;
}

LogReport inspect_log(ObjectStore& table) {
  LogReport r;
  auto log = list_log(table);
  if (!log) {
    r.problems.push_back(table.describe() + ": cannot list _delta_log: " + log.error().message());
    return r;
  }
  auto cp = last_checkpoint(table);
  if (log->commits.empty() && log->checkpoints.empty() && cp && !*cp) {
    r.problems.push_back(table.describe() + ": no _delta_log directory");
    return r;
  }
  if (!cp) {
    r.problems.push_back(where(table, kLastCheckpointKey) +
                         " cannot be read: " + cp.error().message());
  } else if (*cp) {
    auto s = read_checkpoint(table, **cp);
    if (s.has_value())
      r.snapshot = std::move(*s);
    else
      r.problems.push_back("checkpoint " + where(table, checkpoint_key(**cp)) +
                           " is unreadable: " + s.error().message());
  }
  const int64_t last = log->commits.empty() ? -1 : *log->commits.rbegin();
  for (int64_t v = r.snapshot.version + 1; v <= last; ++v) {
    const std::string p = where(table, commit_key(v));
    auto text = table.get(commit_key(v));
    if (!text) {
      if (text.error().code() == core::StatusCode::kNotFound)
        r.problems.push_back("Delta commit " + p + " is missing (version " + std::to_string(last) +
                             " exists)");
      else
        r.problems.push_back("Delta commit " + p + " cannot be read: " + text.error().message());
      break;
    }
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
      r.problems.push_back("Delta commit " + p + " is empty (" + std::to_string(text->size()) +
                           " bytes)");
      break;
    }
    core::Status st = r.snapshot.apply_commit(*text);
    if (!st.is_ok()) {
      r.problems.push_back("Delta commit " + p + " is unreadable: " + st.message());
      break;
    }
    r.snapshot.version = v;
  }
  return r;
}

LogReport inspect_log(const std::string& table_dir) {
  auto store = local(table_dir);
  if (!store) {
    LogReport r;
    r.problems.push_back(table_dir + ": no _delta_log directory");
    return r;
  }
  return inspect_log(*store);
}

std::string check_file(ObjectStore& table, const AddFile& add, bool checksum) {
  const std::string key = data_key(add.path);
  const std::string p = where(table, key);
  auto size = table.size(key);
  if (!size) {
    if (size.error().code() == core::StatusCode::kNotFound) return "data file " + p + " is missing";
    return "data file " + p + " cannot be read: " + size.error().message();
  }
  if (static_cast<int64_t>(*size) != add.size)
    return "data file " + p + " has " + std::to_string(*size) + " bytes, its add action says " +
           std::to_string(add.size);
  auto tag = add.tags.find(kCrc32cTag);
  if (!checksum || tag == add.tags.end()) return "";  // files written by other tools: size only
  std::string problem;
  auto crc = crc_of(table, key, *size, &problem);
  if (!crc) return problem;
  if (core::crc32c_hex(*crc) != tag->second)
    return "data file " + p + " is corrupt: CRC-32C " + core::crc32c_hex(*crc) + ", recorded " +
           tag->second;
  return "";
}

std::string check_file(const std::string& table_dir, const AddFile& add, bool checksum) {
  auto store = local(table_dir);
  if (!store) return "table " + table_dir + " cannot be opened";
  return check_file(*store, add, checksum);
}

std::vector<std::string> check_files(ObjectStore& table, const Snapshot& snap, int64_t& checked) {
  std::vector<std::string> problems;
  for (const auto& [path, add] : snap.active) {
    ++checked;
    std::string p = check_file(table, add, true);
    if (!p.empty())
      problems.push_back(p + " (live at version " + std::to_string(snap.version) + ")");
  }
  return problems;
}

std::vector<std::string> check_files(const std::string& table_dir, const Snapshot& snap,
                                     int64_t& checked) {
  auto store = local(table_dir);
  if (!store) return {"table " + table_dir + " cannot be opened"};
  return check_files(*store, snap, checked);
}

}  // namespace pinstream::connectors::delta
