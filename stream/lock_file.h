// Exclusive ownership of a data directory: only one pinstream process may run a pipeline
// over it (flock on <data_dir>/LOCK; released by the kernel when the process dies).
#pragma once

#include <string>

#include "stream/core/status.h"

namespace pinstream::runtime {

class LockFile {
 public:
  // Takes the lock or fails with AlreadyExists "data directory X is in use by process N".
  static core::Result<LockFile> acquire(const std::string& data_dir);
  LockFile(LockFile&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  LockFile& operator=(LockFile&&) = delete;
  LockFile(const LockFile&) = delete;
  ~LockFile();

 private:
  explicit LockFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace pinstream::runtime
