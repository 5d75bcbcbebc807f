// The files source's end for --available-now: the files present when the run starts and
// their sizes then. Sizes rather than line counts: a stat per file instead of reading every
// file twice, and as exact, since lines are only appended: a line belongs to the run when
// its newline lies within the size seen at start.
#include <nlohmann/json.hpp>

#include "connectors/files/file_partition.h"

namespace pinstream::connectors::files {
namespace fs = std::filesystem;

std::string FilePartition::fix_end(bool none) {
  std::vector<std::string> names;
  if (!none) list_names(names);
  std::map<std::string, uint64_t> sizes;
  uint64_t bytes = 0;
  for (const auto& name : names) {
    uint64_t size = 0;
    if (store_) {
      size = objects_.at(name);  // the listed size: objects are written whole
    } else {
      std::error_code ec;
      size = fs::file_size(dir_ / name, ec);
      if (ec) continue;  // gone meanwhile: nothing of it to read
    }
    sizes[name] = size;
    bytes += size;
  }
  end_ = std::move(sizes);
  list();
  nlohmann::json j = {
      {"files", end_->size()}, {"bytes", bytes}, {"last", names.empty() ? "" : names.back()}};
  return j.dump();
}

bool FilePartition::beyond_end(const std::string& name) const { return end_ && !end_->count(name); }

// The line just read ends past its file's size at start (or its file was not there).
bool FilePartition::line_past_end() const {
  if (!end_) return false;
  auto it = end_->find(current_);
  return it == end_->end() || reader_.consumed() > it->second;
}

}  // namespace pinstream::connectors::files
