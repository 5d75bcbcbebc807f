// The runtime's name for core::write_file_atomically (stream/core/durable_file.h): a whole
// file replaced so that a crash leaves either the old file or the new one.
#pragma once

#include <filesystem>
#include <string_view>

#include "stream/core/durable_file.h"

namespace pinstream::runtime {

// Creates the parent directories when missing. IoError naming the path on failure.
inline core::Status write_file_durably(const std::filesystem::path& path, std::string_view data) {
  return core::write_file_atomically(path, data);
}

}  // namespace pinstream::runtime
