// Standard base64 (RFC 4648, with padding): Kinesis `Data` fields, and dead letters whose
// raw bytes are not UTF-8. The decoder is on the hot path of every GetRecords response:
// table-driven, four characters per step, no allocation beyond growing `out` once.
#pragma once

#include <string>
#include <string_view>

namespace pinstream::core {

// Replaces `out` with the bytes `in` encodes. Returns false (and leaves `out` unspecified)
// when `in` is not valid padded base64.
bool base64_decode(std::string_view in, std::string& out);
// Appends the padded base64 encoding of `in` to `out`.
void base64_encode(std::string_view in, std::string& out);

}  // namespace pinstream::core
