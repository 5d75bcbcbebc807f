// What the dead_letters table keeps of a record that could not be cleaned: its raw bytes
// (base64 when they are not UTF-8) and the reason. Whatever the record, a dead letter stays
// small: a record over the size limit, or one its source cut (core::RecordCut), keeps only
// its first kDeadLetterRawBytes, and its reason gains the whole record's size and SHA-256.
#pragma once

#include <cstddef>
#include <string>

#include "stream/core/schema.h"

namespace pinstream::transforms {

// Default: 64 KiB.
inline constexpr size_t kDeadLetterRawBytes = 64 * 1024;

struct DeadLetter {
  std::string raw;       // the record, or its first bytes (cut at a UTF-8 character boundary)
  std::string encoding;  // "utf8", or "base64" when the kept bytes are not valid UTF-8
  std::string reason;
};

// The reason of a record its source cut (rec.cut != kWhole): "record of N bytes exceeds
// max_record_bytes M" (as the Cleaner says for a whole record) or "truncated: ...".
std::string cut_reason(const core::RawRecord& rec, size_t max_record_bytes);

// Builds the dead letter of `rec` for `reason`. When only a prefix is kept, the reason
// ends with " (raw: first K of N bytes, sha256 H)", H being the hex SHA-256 of the whole
// record (as `sha256sum` prints it for the record's bytes without its newline).
DeadLetter make_dead_letter(const core::RawRecord& rec, std::string reason,
                            size_t max_record_bytes);

}  // namespace pinstream::transforms
