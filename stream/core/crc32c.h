// CRC-32C (Castagnoli), the checksum pinstream records for every Parquet file it writes
// (Delta `add.tags["pinstream.crc32c"]`) and that `pinstream verify` checks. Uses the
// SSE4.2 instruction when the CPU has it, a table otherwise; both give the same value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pinstream::core {

// Extends `crc` (0 to start) with `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);
inline uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data.data(), data.size()); }
// Eight lowercase hex digits, the form stored in tags.
std::string crc32c_hex(uint32_t crc);

}  // namespace pinstream::core
