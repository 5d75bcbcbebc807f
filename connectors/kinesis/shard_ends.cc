#include "connectors/kinesis/shard_ends.h"

#include <chrono>
#include <thread>

namespace pinstream::connectors::kinesis {

bool sequence_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

ApiError scan_to_tip(Api& api, const std::string& stream, const std::string& shard,
                     const std::string& after, std::string& last) {
  static constexpr size_t kPage = 10000;
  std::string iterator;
  ApiError e = after.empty() ? api.get_shard_iterator(stream, shard, "TRIM_HORIZON", "", iterator)
                             : api.get_shard_iterator(stream, shard, "AFTER_SEQUENCE_NUMBER", after,
                                                      iterator);
  if (!e.ok()) return e;
  core::Batch batch;
  for (int retries = 0;;) {
    batch.clear();
    GetRecordsResult res;
    e = api.get_records(iterator, kPage, 0, batch, res);
    if (e.kind == ErrorKind::kRetryable && ++retries < 10) {  // throttled: 5 reads/s a shard
      std::this_thread::sleep_for(std::chrono::milliseconds(200) * retries);
      continue;
    }
    if (!e.ok()) return e;
    if (batch.size) last = batch.records[batch.size - 1].position;
    if (!res.next_iterator || (res.count < kPage && res.millis_behind_latest == 0)) return e;
    iterator = std::move(*res.next_iterator);
  }
}

std::string ShardEnds::describe(const End& end) {
  switch (end.kind) {
    case Kind::kSequence:
      return end.sequence;
    case Kind::kClosed:
      return "closed";
    case Kind::kEmpty:
      break;
  }
  return "";
}

bool ShardEnds::done(const std::string& key, const std::string& last_seq, bool finished) const {
  auto it = ends_.find(key);
  if (it == ends_.end() || finished || clipped_.count(key)) return true;
  switch (it->second.kind) {
    case Kind::kEmpty:
      return true;
    case Kind::kClosed:
      return false;
    case Kind::kSequence:
      break;
  }
  return !last_seq.empty() && !sequence_less(last_seq, it->second.sequence);
}

size_t ShardEnds::clip(const std::string& key, core::Batch& batch, size_t first) {
  auto it = ends_.find(key);
  size_t keep = first;
  const bool all = it != ends_.end() && it->second.kind == Kind::kClosed;
  while (keep < batch.size &&
         (all || (it != ends_.end() && it->second.kind == Kind::kSequence &&
                  !sequence_less(it->second.sequence, batch.records[keep].position))))
    ++keep;
  if (keep < batch.size) {
    clipped_[key] = true;
    batch.size = keep;
  }
  return keep - first;
}

}  // namespace pinstream::connectors::kinesis
