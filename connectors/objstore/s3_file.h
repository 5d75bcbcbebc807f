// A local file uploaded to S3 without holding it in memory: its bytes are hashed
// (x-amz-content-sha256 signs the payload) and then read again while libcurl sends them,
// a range at a time for multipart parts. The file must not change meanwhile: a file that
// shrinks aborts the request, and one whose size or modification time moved between the
// start and the end of the upload fails the upload (the caller removes what landed).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "connectors/http/http_client.h"
#include "stream/core/status.h"

namespace pinstream::connectors::objstore {

// Bytes of a file to send as one request body.
struct FileRange {
  int fd = -1;
  std::string path;  // for messages
  uint64_t offset = 0, size = 0;
  std::string sha256_hex;  // of these bytes
};

// An open file being uploaded, with its state when opened. Closes on destruction.
class UploadFile {
 public:
  // IoError naming the path when it cannot be opened.
  static core::Result<UploadFile> open(const std::string& path);
  UploadFile(UploadFile&& other) noexcept;
  UploadFile& operator=(UploadFile&&) = delete;
  UploadFile(const UploadFile&) = delete;
  ~UploadFile();

  uint64_t size() const { return static_cast<uint64_t>(opened_.st_size); }
  // The range [offset, offset + size) with its SHA-256 computed (one pass over the bytes).
  // IoError when the file ends before it (it shrank).
  core::Result<FileRange> range(uint64_t offset, uint64_t size) const;
  // IoError "changed while it was uploaded" when its size or modification time moved.
  core::Status unchanged() const;

 private:
  UploadFile(int fd, std::string path, struct stat opened);
  int fd_;
  std::string path_;
  struct stat opened_;
};

// The body reader of an http::Request for `r` (r must outlive the request).
void set_file_body(http::Request& req, const FileRange& r);

}  // namespace pinstream::connectors::objstore
