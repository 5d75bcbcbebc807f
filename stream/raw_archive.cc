#include "stream/raw_archive.h"

#include <charconv>
#include <optional>

namespace pinstream::runtime {

namespace {

std::optional<int64_t> as_offset(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// The key of a partition's folder, relative to the root, with its trailing '/'.
std::string partition_folder(const RawArchive::Target& t, int64_t number) {
  return "topics/" + t.topic + "/partition=" + std::to_string(number) + "/";
}

}  // namespace

core::Result<std::unique_ptr<RawArchive>> RawArchive::open(std::vector<Target> per_stream) {
  std::map<std::string, std::unique_ptr<Store>> stores;
  for (const auto& t : per_stream) {
    if (t.root.empty() || stores.count(t.root)) continue;
    auto store = connectors::objstore::open_store(t.root);
    if (!store)
      return core::Status(store.error().code(),
                          "raw archive root " + t.root + ": " + store.error().message());
    core::Status st = (*store)->check();
    if (!st.is_ok())
      return core::Status(st.code(), "raw archive root " + t.root + ": " + st.message());
    stores[t.root] = std::move(*store);
  }
  return std::unique_ptr<RawArchive>(new RawArchive(std::move(per_stream), std::move(stores)));
}

int64_t RawArchive::partition_number(const std::string& id, uint32_t index) {
  size_t end = id.size(), begin = end;
  while (begin > 0 && id[begin - 1] >= '0' && id[begin - 1] <= '9') --begin;
  int64_t v = 0;
  if (begin == end || std::from_chars(id.data() + begin, id.data() + end, v).ec != std::errc())
    return index;
  return v;
}

core::Status RawArchive::remove_uncommitted(const Target& t, int64_t number, const std::string& id,
                                            const std::map<std::string, int64_t>& next) {
  const std::string folder = partition_folder(t, number);
  const std::string prefix = t.topic + "+" + std::to_string(number) + "+";
  auto it = next.find(id);
  Store& store = *stores_.at(t.root);
  auto listed = store.list(folder + prefix);
  if (!listed)
    return core::Status(listed.error().code(), "cannot list the raw archive " + store.describe() +
                                                   "/" + folder + ": " + listed.error().message());
  std::vector<std::string> uncommitted;
  for (const auto& o : *listed) {
    std::string name = o.key.substr(folder.size());
    if (name.find('/') != std::string::npos || name.size() < prefix.size() + 6 ||
        name.compare(name.size() - 5, 5, ".json") != 0)
      continue;
    auto start = as_offset(name.substr(prefix.size(), name.size() - prefix.size() - 5));
    if (!start || (it != next.end() && *start < it->second)) continue;
    uncommitted.push_back(o.key);
  }
  if (uncommitted.empty()) return core::Status::ok();
  core::Status st = store.remove_many(uncommitted);
  if (!st.is_ok())
    return core::Status(st.code(), "cannot remove uncommitted raw archive files under " +
                                       store.describe() + "/" + folder + ": " + st.message());
  return st;
}

void RawArchive::add(const core::PartitionRef& partition, uint32_t partition_index,
                     const core::RawRecord& record, const std::map<std::string, int64_t>& next) {
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
    std::string name =
        t.topic + "+" + std::to_string(o.number) + "+" + std::to_string(o.start) + ".json";
    PS_RETURN_IF_ERROR(stores_.at(t.root)->put(partition_folder(t, o.number) + name, o.data));
    next[o.id] = o.start + o.count;
  }
  open_.clear();
  return core::Status::ok();
}

}  // namespace pinstream::runtime
