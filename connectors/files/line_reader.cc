#include "connectors/files/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pinstream::connectors::files {
using core::Status;

namespace {
constexpr size_t kChunk = 64 * 1024;  // bytes asked of each read()
}

LineReader::LineReader(size_t max_line_bytes, size_t keep_bytes)
    : max_(max_line_bytes == 0 ? SIZE_MAX / 2 : max_line_bytes), keep_(keep_bytes) {}

LineReader::~LineReader() { close(); }

Status LineReader::open(const std::string& path) {
  close();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    if (err == ENOENT) return Status::not_found("file " + path + " does not exist");
    return Status::io("cannot open " + path + ": " + std::strerror(err));
  }
  return Status::ok();
}

void LineReader::open(std::unique_ptr<ByteInput> input) {
  close();
  input_ = std::move(input);
}

void LineReader::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  input_.reset();
  begin_ = end_ = scan_ = 0;
  consumed_ = 0;
  skipping_ = false;
  pending_cr_ = false;
  keep_buf_.clear();
  skip_size_ = 0;
  skip_bytes_ = 0;
}

// Reads more bytes after end_, moving the unconsumed ones to the front first. The buffer
// holds at most one line of max_ + 1 bytes plus two chunks.
Status LineReader::fill(bool& eof) {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < kChunk) buf_.resize(end_ + kChunk);
  // Grown for one long line (up to max_line_bytes): give the memory back once it is read,
  // instead of keeping a megabyte per partition for the rest of the run.
  if (buf_.size() > 4 * kChunk && end_ + kChunk <= buf_.size() / 4) {
    buf_.resize(end_ + kChunk);
    buf_.shrink_to_fit();
  }
  if (input_) {
    PS_ASSIGN_OR_RETURN(size_t n, input_->read(buf_.data() + end_, buf_.size() - end_));
    eof = n == 0;
    end_ += n;
    return Status::ok();
  }
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io(std::string("cannot read a file: ") + std::strerror(errno));
    eof = n == 0;
    end_ += static_cast<size_t>(n);
    return Status::ok();
  }
}

void LineReader::start_skipping() {
  skipping_ = true;
  keep_buf_.clear();
  skip_size_ = 0;
  skip_bytes_ = 0;
  pending_cr_ = false;
  sha_.reset();
}

// Adds a piece of the line being skipped: the first keep_ bytes are kept, all are hashed.
// A "\r" at the end of a piece is held back until it is known not to end the line.
void LineReader::absorb(std::string_view data, bool at_newline) {
  if (pending_cr_ && !(at_newline && data.empty())) {
    if (keep_buf_.size() < keep_) keep_buf_.push_back('\r');
    if (hash_) sha_.update("\r");
    ++skip_size_;
  }
  pending_cr_ = false;
  if (!data.empty() && data.back() == '\r') {
    data.remove_suffix(1);
    pending_cr_ = !at_newline;
  }
  if (keep_buf_.size() < keep_) keep_buf_.append(data.substr(0, keep_ - keep_buf_.size()));
  if (hash_) sha_.update(data);
  skip_size_ += data.size();
}

LineReader::Line LineReader::finish_skipping() {
  Line out;
  out.bytes = keep_buf_;
  out.oversized = true;
  out.size = skip_size_;
  if (hash_) out.sha256 = sha_.hex_digest();
  skipping_ = false;
  return out;
}

core::Result<bool> LineReader::next(Line& out, bool hash) {
  if (!is_open()) return Status::internal("LineReader::next without an open file");
  hash_ = hash;
  for (;;) {
    if (skipping_) {
      const char* from = buf_.data() + begin_;
      const auto* nl = end_ > begin_
                           ? static_cast<const char*>(std::memchr(from, '\n', end_ - begin_))
                           : nullptr;
      size_t len = nl ? static_cast<size_t>(nl - from) : end_ - begin_;
      absorb(std::string_view(from, len), nl != nullptr);
      skip_bytes_ += len;
      begin_ = scan_ = begin_ + len;
      if (nl) {
        ++begin_;
        ++scan_;
        consumed_ += skip_bytes_ + 1;
        out = finish_skipping();
        return true;
      }
    } else {
      const char* from = buf_.data() + scan_;
      // memchr must not see the null data() of a buffer not yet filled, even for 0 bytes.
      const auto* nl =
          end_ > scan_ ? static_cast<const char*>(std::memchr(from, '\n', end_ - scan_)) : nullptr;
      if (nl) {
        const char* start = buf_.data() + begin_;
        auto len = static_cast<size_t>(nl - start);
        consumed_ += len + 1;
        begin_ = scan_ = begin_ + len + 1;
        if (len > 0 && start[len - 1] == '\r') --len;
        out.bytes = std::string_view(start, len);
        out.oversized = false;
        out.size = len;
        out.sha256.clear();
        return true;
      }
      scan_ = end_;
      if (end_ - begin_ > max_ + 1) {
        start_skipping();
        continue;
      }
    }
    bool eof = false;
    PS_RETURN_IF_ERROR(fill(eof));
    if (eof) return false;
  }
}

LineReader::Line LineReader::take_partial() {
  Line out;
  if (skipping_) {
    absorb({}, false);  // the input ends here: a held "\r" belongs to the line
    consumed_ += skip_bytes_;
    return finish_skipping();
  }
  out.bytes = std::string_view(buf_.data() + begin_, end_ - begin_);
  out.size = out.bytes.size();
  consumed_ += out.size;
  begin_ = scan_ = end_;
  return out;
}

}  // namespace pinstream::connectors::files
