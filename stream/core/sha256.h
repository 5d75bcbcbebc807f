// SHA-256 (FIPS 180-4), incremental: dead letters of records too large to keep whole carry
// the hash of the whole record, so that it can be found again with `sha256sum`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pinstream::core {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(std::string_view bytes);
  // The digest of everything updated since the last reset, as 64 lowercase hex digits.
  // Ends the message: reset() before hashing another.
  std::string hex_digest();

 private:
  void block(const unsigned char* p);
  std::array<uint32_t, 8> h_{};
  std::array<unsigned char, 64> buf_{};
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

// Convenience: the hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace pinstream::core
