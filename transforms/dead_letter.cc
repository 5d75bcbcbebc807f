#include "transforms/dead_letter.h"

#include <simdjson.h>

#include <string_view>

#include "stream/core/base64.h"
#include "stream/core/sha256.h"

namespace pinstream::transforms {
namespace {

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// The longest prefix of at most `limit` bytes that does not end inside a UTF-8 character
// (a character is at most 4 bytes, so at most 3 are dropped).
std::string_view utf8_prefix(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s;
  size_t n = limit;
  for (size_t back = 0; back < 4 && n > 0; ++back, --n) {
    auto c = static_cast<unsigned char>(s[n]);  // the first byte left out
    if ((c & 0xC0) != 0x80) break;              // not a continuation: n is a boundary
  }
  return s.substr(0, n);
}

}  // namespace

std::string cut_reason(const core::RawRecord& rec, size_t max_record_bytes) {
  if (rec.cut == core::RecordCut::kTruncated)
    return "truncated: the input ends inside this record (a last line without its newline)";
  return "record of " + std::to_string(rec.full_size) + " bytes exceeds max_record_bytes " +
         std::to_string(max_record_bytes);
}

DeadLetter make_dead_letter(const core::RawRecord& rec, std::string reason,
                            size_t max_record_bytes) {
  DeadLetter d;
  d.reason = std::move(reason);
  // The source kept only a prefix (and hashed the whole) of a record it cut.
  const bool cut = rec.cut != core::RecordCut::kWhole && !rec.full_sha256.empty();
  const uint64_t whole = cut ? rec.full_size : rec.bytes.size();
  std::string_view kept = rec.bytes;
  if (cut || rec.bytes.size() > max_record_bytes) {
    kept = std::string_view(rec.bytes).substr(0, kDeadLetterRawBytes);
    // A prefix of valid UTF-8 stays readable text when cut at a character boundary.
    std::string_view text = utf8_prefix(rec.bytes, kDeadLetterRawBytes);
    if (valid_utf8(text)) kept = text;
    std::string sha = cut ? rec.full_sha256 : core::sha256_hex(rec.bytes);
    d.reason += " (raw: first " + std::to_string(kept.size()) + " of " + std::to_string(whole) +
                " bytes, sha256 " + sha + ")";
  }
  if (valid_utf8(kept)) {
    d.raw.assign(kept);
    d.encoding = "utf8";
  } else {
    core::base64_encode(kept, d.raw);
    d.encoding = "base64";
  }
  return d;
}

}  // namespace pinstream::transforms
