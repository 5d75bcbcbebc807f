#include "connectors/files/file_partition.h"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "connectors/files/file_position.h"

namespace pinstream::connectors::files {
namespace fs = std::filesystem;
using core::Status;

namespace {

// The start offset of "<topic>+<p>+<offset>.json", or -1.
int64_t start_offset(const std::string& name) {
  size_t plus = name.rfind('+');
  if (plus == std::string::npos || plus + 1 >= name.size()) return -1;
  const char* digits = name.c_str() + plus + 1;
  if (*digits < '0' || *digits > '9') return -1;
  char* end = nullptr;
  long long v = std::strtoll(digits, &end, 10);
  return (end && std::string_view(end) == ".json") ? v : -1;
}

}  // namespace

bool file_less(const std::string& a, const std::string& b) {
  int64_t oa = start_offset(a), ob = start_offset(b);
  if ((oa >= 0) != (ob >= 0)) return oa >= 0;
  if (oa != ob) return oa < ob;
  return a < b;
}

FilePartition::FilePartition(core::PartitionRef ref, fs::path dir, std::string pattern,
                             size_t max_record_bytes)
    : ref_(std::move(ref)),
      dir_(std::move(dir)),
      pattern_(std::move(pattern)),
      reader_(max_record_bytes) {}

FilePartition::FilePartition(core::PartitionRef ref, std::shared_ptr<objstore::ObjectStore> store,
                             std::string prefix, std::string pattern, size_t max_record_bytes,
                             uint64_t chunk_bytes)
    : ref_(std::move(ref)),
      pattern_(std::move(pattern)),
      store_(std::move(store)),
      prefix_(std::move(prefix)),
      chunk_bytes_(chunk_bytes),
      reader_(max_record_bytes) {}

bool FilePartition::list_names(std::vector<std::string>& names) const {
  names.clear();
  if (store_) {
    for (const auto& [name, size] : objects_)
      if (::fnmatch(pattern_.c_str(), name.c_str(), 0) == 0) names.push_back(name);
    std::sort(names.begin(), names.end(), file_less);
    return true;
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && ::fnmatch(pattern_.c_str(), name.c_str(), 0) == 0)
      names.push_back(std::move(name));
  }
  if (ec) {
    spdlog::warn(
        "Cannot list a files partition; keeping what is known. partition={} dir={} error={}",
        ref_.id, dir_.string(), ec.message());
    return false;
  }
  std::sort(names.begin(), names.end(), file_less);
  return true;
}

void FilePartition::list() {
  std::vector<std::string> names;
  if (!list_names(names)) return;
  // Done names sorted before every listed file were removed (retention): forgetting them
  // keeps the done set, and the position, as long as the directory.
  if (!names.empty()) done_.erase(done_.begin(), done_.lower_bound(names.front()));
  todo_.clear();
  for (auto& name : names)
    if (name != current_ && !done_.count(name) && !beyond_end(name))
      todo_.push_back(std::move(name));
  // Files to read make the partition readable again, unless a partial last line holds
  // them back (then only its newline, or the end of the run, does).
  if (!todo_.empty() && !(reader_.is_open() && reader_.has_partial())) at_end_ = false;
}

void FilePartition::restore(const std::string& position) {
  FilePosition pos;
  if (!decode_position(position, pos)) {
    spdlog::warn("Ignoring malformed file position. partition={} position={}", ref_.id, position);
    return;
  }
  current_ = pos.file;
  line_ = pos.line;
  passed_ = 0;
  reader_.close();
  done_.clear();
  done_.insert(pos.done.begin(), pos.done.end());
  if (pos.legacy) {
    // "name:line" said only where reading stood: every file sorted before it was read.
    std::vector<std::string> names;
    list_names(names);
    for (const auto& name : names)
      if (file_less(name, current_)) done_.insert(name);
  }
  list();
}

std::optional<std::string> FilePartition::position() const {
  if (current_.empty() && done_.empty()) return std::nullopt;
  FilePosition pos;
  pos.file = current_;
  pos.line = line_;
  pos.done.assign(done_.begin(), done_.end());
  return encode_position(pos);
}

int64_t FilePartition::lag_bytes() const {
  int64_t bytes = 0;
  if (store_) {
    for (const auto& name : todo_)
      if (auto it = objects_.find(name); it != objects_.end())
        bytes += static_cast<int64_t>(it->second);
    if (auto it = objects_.find(current_); it != objects_.end())
      bytes += static_cast<int64_t>(it->second) - static_cast<int64_t>(reader_.consumed());
    return std::max<int64_t>(0, bytes);
  }
  std::error_code ec;
  for (const auto& name : todo_) {
    auto size = fs::file_size(dir_ / name, ec);
    if (!ec) bytes += static_cast<int64_t>(size);
  }
  if (!current_.empty()) {
    auto size = fs::file_size(dir_ / current_, ec);
    if (!ec) bytes += static_cast<int64_t>(size) - static_cast<int64_t>(reader_.consumed());
  }
  return std::max<int64_t>(0, bytes);
}

bool FilePartition::release_partial() {
  release_ = !end_ && at_end_ && reader_.is_open() && reader_.has_partial();
  return release_;
}

// The current file is read to its end: on to the first file to read.
void FilePartition::next_file() {
  if (!current_.empty()) done_.insert(current_);
  reader_.close();
  current_ = todo_.front();
  todo_.erase(todo_.begin());
  line_ = 0;
  passed_ = 0;
}

Status FilePartition::open_current(bool& gone) {
  Status st;
  if (store_) {
    auto it = objects_.find(current_);
    if (it == objects_.end())
      st = Status::not_found(prefix_ + current_ + " is not listed");
    else
      reader_.open(
          std::make_unique<ObjectInput>(store_, prefix_ + current_, it->second, chunk_bytes_));
  } else {
    st = reader_.open((dir_ / current_).string());
  }
  gone = st.code() == core::StatusCode::kNotFound;
  if (gone)
    spdlog::warn("A file to read is gone; going on after it. partition={} file={}", ref_.id,
                 current_);
  passed_ = 0;
  return gone ? Status::ok() : st;
}

void FilePartition::emit(uint32_t index, core::Batch& out, const LineReader::Line& line,
                         core::RecordCut cut) {
  core::RawRecord& r = out.next();
  r.partition = index;
  r.bytes.assign(line.bytes);
  r.position.reserve(current_.size() + 12);
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof digits, line_).ptr;
  r.position.append(current_).append(1, ':').append(digits, end);
  r.cut = cut;
  if (cut != core::RecordCut::kWhole) r.full_size = line.size;
  if (line.oversized) r.full_sha256 = line.sha256;
}

// At the current end of the file with bytes after its last newline. Hands them out as a
// truncated record when released (returns true: go on reading); else they wait.
bool FilePartition::read_partial(uint32_t index, core::Batch& out) {
  if (!release_) {
    if (!todo_.empty() && warned_ != current_) {
      warned_ = current_;
      spdlog::warn(
          "The last line of a file has no newline yet; later files wait for it. "
          "partition={} file={} line={}",
          ref_.id, current_, passed_ + 1);
    }
    return false;
  }
  release_ = false;
  LineReader::Line line = reader_.take_partial();
  if (++passed_ <= line_) return true;  // handed out by an earlier run already
  ++line_;
  if (line.oversized || !line.bytes.empty()) emit(index, out, line, core::RecordCut::kTruncated);
  return true;
}

// At the end of an object with bytes after its last newline: the object is complete, so they
// are its last line, whole.
void FilePartition::read_last_line(uint32_t index, core::Batch& out, size_t& n) {
  LineReader::Line line = reader_.take_partial();
  if (++passed_ <= line_) return;  // handed out by an earlier run already
  ++line_;
  if (!line.oversized && line.bytes.empty()) return;
  emit(index, out, line, line.oversized ? core::RecordCut::kOversized : core::RecordCut::kWhole);
  ++n;
}

core::Result<size_t> FilePartition::read(uint32_t index, core::Batch& out, size_t want) {
  size_t n = 0;
  at_end_ = stopped_;
  while (n < want && !stopped_) {
    if (!reader_.is_open()) {
      if (current_.empty() || done_.count(current_)) {
        if (todo_.empty()) break;
        next_file();
      }
      bool gone = false;
      PS_RETURN_IF_ERROR(open_current(gone));
      if (gone) {
        done_.insert(current_);
        continue;
      }
    }
    LineReader::Line line;
    // Lines consumed by an earlier run are passed over without hashing.
    PS_ASSIGN_OR_RETURN(bool got, reader_.next(line, passed_ >= line_));
    if (!got) {
      if (store_ && reader_.has_partial()) {
        read_last_line(index, out, n);
        continue;
      }
      const size_t before = out.size;
      if (reader_.has_partial() && read_partial(index, out)) {
        n += out.size - before;
        continue;
      }
      if (reader_.has_partial() || todo_.empty()) break;
      next_file();
      continue;
    }
    if (++passed_ <= line_) continue;
    if (line_past_end()) {
      stopped_ = true;
      break;
    }
    ++line_;
    if (!line.oversized && line.bytes.empty()) continue;  // blank lines are not records
    emit(index, out, line, line.oversized ? core::RecordCut::kOversized : core::RecordCut::kWhole);
    ++n;
  }
  at_end_ = n < want;
  return n;
}

}  // namespace pinstream::connectors::files
