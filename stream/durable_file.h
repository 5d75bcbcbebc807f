// Writing a whole file so that a crash leaves either the old file or the new one: a temp
// file beside it, fsynced, renamed into place, and the directory fsynced.
#pragma once

#include <filesystem>
#include <string_view>

#include "stream/core/status.h"

namespace pinstream::runtime {

// Creates the parent directories when missing. IoError naming the path on failure.
core::Status write_file_durably(const std::filesystem::path& path, std::string_view data);

}  // namespace pinstream::runtime
