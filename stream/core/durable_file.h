// Writing files so that a crash (kill -9, power loss) leaves either the old content or the
// new one, never a part: the one implementation every local writer uses (the local object
// store, hence Delta commits and checkpoints on a directory; pinstream's checkpoint
// manifests; the raw archive; run summaries). Data goes to a temporary file beside the
// target (named with kTempMarker, so listings can skip it), is fsynced, then renamed (replace)
// or linked (create only if absent) into place, and the directory is fsynced so that the
// name itself survives. On failure the temporary file is removed: nothing partial is visible.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "stream/core/status.h"

namespace pinstream::core {

// Part of every temporary file's name.
inline constexpr std::string_view kTempMarker = ".ps-tmp-";
// Unique temporary names tried before giving up (a name is taken only when another writer
// chose it: names hold the process id and a per-process counter).
inline constexpr int kMaxTempNameAttempts = 16;

// Whether `filename` (no directory) is one of our temporary files.
bool is_temp_file_name(std::string_view filename);

// Replaces `path` with `data` atomically and durably; creates missing parent directories.
// IoError naming the path (NotFound when a directory vanished) on failure; the old file, if
// any, is then unchanged.
Status write_file_atomically(const std::filesystem::path& path, std::string_view data);

// Creates `path` with `data` only when no file has that name (link(): atomic even against
// another process doing the same), durably. AlreadyExists when it exists (left unchanged);
// IoError naming the path otherwise.
Status create_file_exclusively(const std::filesystem::path& path, std::string_view data);

// fsync of a file or (directory = true) a directory, by path. IoError naming it.
Status fsync_path(const std::filesystem::path& path, bool directory);

}  // namespace pinstream::core
