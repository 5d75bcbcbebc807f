#include "connectors/parquet/dictionary.h"

#include <algorithm>
#include <cstring>

#include "connectors/parquet/encoding.h"
#include "stream/core/hash.h"

namespace pinstream::connectors::parquet {
namespace {
// A dictionary value's hash: the low half of core::hash_bytes.
uint32_t hash_bytes(std::string_view v) { return static_cast<uint32_t>(core::hash_bytes(v)); }

}  // namespace

uint32_t StringDictionary::index(std::string_view v, bool& added) {
  if (count_ * 2 >= slots_.size()) grow();
  const uint32_t h = hash_bytes(v);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.index1 == 0) {
      auto index = static_cast<uint32_t>(count_++);
      put_le32(plain_, static_cast<uint32_t>(v.size()));
      s = Slot{h, index + 1, static_cast<uint32_t>(plain_.size()), static_cast<uint32_t>(v.size())};
      plain_.append(v.data(), v.size());
      added = true;
      return index;
    }
    if (s.hash == h && s.length == v.size() &&
        std::memcmp(plain_.data() + s.offset, v.data(), v.size()) == 0) {
      added = false;
      return s.index1 - 1;
    }
  }
}

void StringDictionary::grow() {
  std::vector<Slot> old(std::max<size_t>(64, slots_.size() * 2));
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index1 == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].index1 != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringDictionary::clear() {
  slots_.clear();
  count_ = 0;
  plain_.clear();
}

}  // namespace pinstream::connectors::parquet
