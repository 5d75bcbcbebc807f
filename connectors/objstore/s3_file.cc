#include "connectors/objstore/s3_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "connectors/aws/sigv4.h"

namespace pinstream::connectors::objstore {
namespace {

using core::Result;
using core::Status;

constexpr size_t kHashChunk = 1u << 20;

std::string errno_text() { return std::strerror(errno); }

// Reads up to `len` bytes at `offset`, retrying interrupted and short reads; fewer bytes
// only at the end of the file.
Result<size_t> read_at(int fd, const std::string& path, uint64_t offset, char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd, buf + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io("cannot read " + path + " to upload it: " + errno_text());
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

Status shrank(const std::string& path) {
  return Status::io(path +
                    " changed while it was uploaded (it is shorter than when the "
                    "upload began); nothing refers to the partial object: retry");
}

}  // namespace

Result<UploadFile> UploadFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io("cannot open " + path + " to upload it: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Status::io("cannot stat " + path + " to upload it: " + errno_text());
    ::close(fd);
    return s;
  }
  return UploadFile(fd, path, st);
}

UploadFile::UploadFile(int fd, std::string path, struct stat opened)
    : fd_(fd), path_(std::move(path)), opened_(opened) {}

UploadFile::UploadFile(UploadFile&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), opened_(other.opened_) {
  other.fd_ = -1;
}

UploadFile::~UploadFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<FileRange> UploadFile::range(uint64_t offset, uint64_t size) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Status::internal("SHA-256 unavailable in OpenSSL");
  std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, kHashChunk)));
  for (uint64_t done = 0; done < size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - done, buf.size()));
    PS_ASSIGN_OR_RETURN(size_t got, read_at(fd_, path_, offset + done, buf.data(), want));
    if (got < want) return shrank(path_);
    EVP_DigestUpdate(ctx.get(), buf.data(), got);
    done += got;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  FileRange r;
  r.fd = fd_;
  r.path = path_;
  r.offset = offset;
  r.size = size;
  r.sha256_hex = aws::hex(std::string_view(reinterpret_cast<const char*>(md), len));
  return r;
}

Status UploadFile::unchanged() const {
  struct stat now {};
  if (::fstat(fd_, &now) != 0) return Status::io("cannot stat " + path_ + ": " + errno_text());
  if (now.st_size == opened_.st_size && now.st_mtim.tv_sec == opened_.st_mtim.tv_sec &&
      now.st_mtim.tv_nsec == opened_.st_mtim.tv_nsec) {
    return Status::ok();
  }
  return Status::io(path_ +
                    " changed while it was uploaded (size or modification time); "
                    "the object is removed: retry");
}

void set_file_body(http::Request& req, const FileRange& r) {
  req.body = {};
  req.body_size = r.size;
  req.body_reader = [&r](uint64_t offset, char* buf, size_t len) -> Result<size_t> {
    PS_ASSIGN_OR_RETURN(size_t got, read_at(r.fd, r.path, r.offset + offset, buf, len));
    if (got == 0) return shrank(r.path);
    return got;
  };
}

}  // namespace pinstream::connectors::objstore
