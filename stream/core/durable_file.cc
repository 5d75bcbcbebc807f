#include "stream/core/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace pinstream::core {
namespace fs = std::filesystem;
namespace {

// Per process, not per target: two writers of one target in one process (two handles of a
// table) must never pick the same temporary name.
std::atomic<uint64_t> temp_counter{0};

// The directory holding `path` ("." for a bare file name).
fs::path dir_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

Status errno_status(const std::string& what, const std::string& path, int e) {
  std::string m = what + " " + path + ": " + std::strerror(e);
  return e == ENOENT ? Status::not_found(m) : Status::io(m);
}

// A new temporary file beside `path` holding `data`, fsynced; its path in `tmp`. Removed
// again on failure.
Status write_temp(const fs::path& path, std::string_view data, std::string* tmp) {
  std::error_code ec;
  fs::create_directories(dir_of(path), ec);
  if (ec) return Status::io("cannot create " + dir_of(path).string() + ": " + ec.message());
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < kMaxTempNameAttempts; ++attempt) {
    *tmp = (dir_of(path) /
            ("." + path.filename().string() + std::string(kTempMarker) +
             std::to_string(::getpid()) + "-" + std::to_string(temp_counter.fetch_add(1))))
               .string();
    fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return errno_status("cannot create", *tmp, errno);
  }
  if (fd < 0) return Status::io("cannot create a temporary file beside " + path.string());
  size_t done = 0;
  int e = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      e = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (e == 0 && ::fsync(fd) != 0) e = errno;
  if (::close(fd) != 0 && e == 0) e = errno;
  if (e == 0) return Status::ok();
  ::unlink(tmp->c_str());
  return errno_status("cannot write", *tmp, e);
}

}  // namespace

bool is_temp_file_name(std::string_view filename) {
  return filename.find(kTempMarker) != std::string_view::npos;
}

Status fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open for fsync", path.string(), errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  return rc == 0 ? Status::ok() : errno_status("fsync failed for", path.string(), e);
}

Status write_file_atomically(const fs::path& path, std::string_view data) {
  std::string tmp;
  PS_RETURN_IF_ERROR(write_temp(path, data, &tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = errno_status("cannot rename a temporary file to", path.string(), errno);
    ::unlink(tmp.c_str());
    return s;
  }
  return fsync_path(dir_of(path), true);
}

Status create_file_exclusively(const fs::path& path, std::string_view data) {
  std::string tmp;
  PS_RETURN_IF_ERROR(write_temp(path, data, &tmp));
  int rc = ::link(tmp.c_str(), path.c_str());
  int e = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (e == EEXIST) return Status::exists(path.string() + " already exists");
    return errno_status("cannot link", path.string(), e);
  }
  return fsync_path(dir_of(path), true);
}

}  // namespace pinstream::core
