// The values of one column chunk's string dictionary: the dictionary page's PLAIN bytes and
// an open-addressing index over them whose slots locate each value in those bytes, so a
// lookup touches one slot and the value's bytes. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinstream::connectors::parquet {

class StringDictionary {
 public:
  // Index of `v`, adding it when new (`added` set).
  uint32_t index(std::string_view v, bool& added);
  size_t size() const { return count_; }
  // The dictionary page's values, PLAIN-encoded in index order.
  const std::string& plain() const { return plain_; }
  void clear();

 private:
  void grow();
  struct Slot {
    uint32_t hash = 0, index1 = 0;  // index1 0: empty
    uint32_t offset = 0, length = 0;
  };
  std::vector<Slot> slots_;
  size_t count_ = 0;
  std::string plain_;
};

}  // namespace pinstream::connectors::parquet
