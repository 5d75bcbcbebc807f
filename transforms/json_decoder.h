// Decodes one raw JSON object into the input slots of a Row with simdjson on-demand: fields
// are matched by name (others are validated and skipped), converted to their declared type
// with core::coerce, and absent fields become null. Buffers are reused across records, so
// a warmed-up decoder does not allocate. Not thread-safe: one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::transforms {

class JsonDecoder {
 public:
  // How deep a record may nest objects and arrays, the record object being level 1. Deeper
  // records are dead letters ("too_deep: ..."), decided without deep recursion.
  static constexpr size_t kMaxDepth = 128;

  // rescue: fields not in `input` are kept, see rescued().
  JsonDecoder(core::Schema input, size_t max_record_bytes, bool rescue = false);
  ~JsonDecoder();
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  // Fills row[0 .. input.size()) (the row must be at least that long) in input schema
  // order; a leading UTF-8 byte order mark is ignored. Failure: InvalidArgument whose
  // message is the dead-letter reason ("invalid UTF-8", "invalid JSON: ...", "not a JSON
  // object", "too_deep: ...", "field 'x': ...", "record of N bytes exceeds max_record_bytes M").
  core::Status decode(std::string_view raw, core::Row& row);
  // Whether input field i was present in the last decoded record.
  bool present(size_t i) const { return present_[i] != 0; }
  // With rescue: the last decoded record's fields not in `input`, as a JSON object text
  // (their values as they were written), or empty when there were none.
  const std::string& rescued() const { return rescued_; }

 private:
  struct Impl;
  core::Status decode_object(size_t length, core::Row& row);
  int lookup(std::string_view key);

  std::unique_ptr<Impl> impl_;
  core::Schema input_;
  size_t max_bytes_;
  std::vector<char> present_;
  size_t hint_ = 0;
  bool rescue_ = false;
  std::string rescued_;  // where the next field name is expected (records keep their order)
};

}  // namespace pinstream::transforms
