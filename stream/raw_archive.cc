#include "stream/raw_archive.h"

#include <charconv>
#include <filesystem>
#include <optional>

#include "stream/durable_file.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;

namespace {

std::optional<int64_t> as_offset(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

fs::path partition_dir(const RawArchive::Target& t, int64_t number) {
  return fs::path(t.root) / "topics" / t.topic / ("partition=" + std::to_string(number));
}

}  // namespace

int64_t RawArchive::partition_number(const std::string& id, uint32_t index) {
  size_t end = id.size(), begin = end;
  while (begin > 0 && id[begin - 1] >= '0' && id[begin - 1] <= '9') --begin;
  int64_t v = 0;
  if (begin == end || std::from_chars(id.data() + begin, id.data() + end, v).ec != std::errc()) return index;
  return v;
}

core::Status RawArchive::remove_uncommitted(const Target& t, int64_t number, const std::string& id,
                                            const std::map<std::string, int64_t>& next) {
  const std::string prefix = t.topic + "+" + std::to_string(number) + "+";
  auto it = next.find(id);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(partition_dir(t, number), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 6 ||
        name.compare(name.size() - 5, 5, ".json") != 0)
      continue;
    auto start = as_offset(name.substr(prefix.size(), name.size() - prefix.size() - 5));
    if (!start || (it != next.end() && *start < it->second)) continue;
    std::error_code rm;
    fs::remove(e.path(), rm);
    if (rm) return core::Status::io("cannot remove uncommitted archive file " + e.path().string());
  }
  return core::Status::ok();
}

void RawArchive::add(const core::PartitionRef& partition, uint32_t partition_index, const core::RawRecord& record,
                     const std::map<std::string, int64_t>& next) {
  const std::optional<int64_t> offset = as_offset(record.position);
  auto [it, fresh] = open_.try_emplace(partition_index);
  Open& o = it->second;
  if (fresh) {
    o.target = &streams_[partition.stream];
    o.id = partition.id;
    o.number = partition_number(partition.id, partition_index);
    if (seen_.insert(partition.id).second) {
      core::Status st = remove_uncommitted(*o.target, o.number, o.id, next);
      if (!st.is_ok() && error_.is_ok()) error_ = st;
    }
    auto committed = next.find(partition.id);
    o.offsets = offset.has_value();
    o.start = offset ? *offset : committed != next.end() ? committed->second : 0;
  }
  o.data += record.bytes;
  o.data += '\n';
  // next = last offset + 1 (gaps included) for Kafka, else one more archived record.
  o.count = o.offsets && offset ? *offset - o.start + 1 : o.count + 1;
}

core::Status RawArchive::flush(std::map<std::string, int64_t>& next) {
  PS_RETURN_IF_ERROR(error_);
  for (auto& [index, o] : open_) {
    const Target& t = *o.target;
    std::string name = t.topic + "+" + std::to_string(o.number) + "+" + std::to_string(o.start) + ".json";
    PS_RETURN_IF_ERROR(write_file_durably(partition_dir(t, o.number) / name, o.data));
    next[o.id] = o.start + o.count;
  }
  open_.clear();
  return core::Status::ok();
}

}  // namespace pinstream::runtime
