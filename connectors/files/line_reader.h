// Reads the complete lines of one file that may still grow (a producer appending, a sync
// copying it), in bounded memory. A line is handed out only once its newline is there; a
// line longer than the limit is never buffered whole: its first bytes are kept, the rest
// is hashed (SHA-256) and skipped up to its newline. Reads a local file through its
// descriptor, or any other byte stream (an object in a store) through a ByteInput. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/sha256.h"
#include "stream/core/status.h"

namespace pinstream::connectors::files {

// A byte stream read from its start: the bytes of an object in a store.
class ByteInput {
 public:
  virtual ~ByteInput() = default;
  // Up to `n` bytes into `buf`; 0 at the current end. Not an error at the end.
  virtual core::Result<size_t> read(char* buf, size_t n) = 0;
};

class LineReader {
 public:
  struct Line {
    std::string_view bytes;  // without "\n" or "\r\n"; valid until the next call
    bool oversized = false;  // `bytes` holds the first keep_bytes only
    uint64_t size = 0;       // the whole line's size (without its line end)
    std::string sha256;      // when oversized: hex SHA-256 of the whole line
  };

  // Lines of up to max_line_bytes (plus a "\r") are handed out whole; longer ones keep
  // their first keep_bytes. 0: no limit.
  explicit LineReader(size_t max_line_bytes, size_t keep_bytes = 64 * 1024);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path` at its start (closing any open file). NotFound when it does not exist,
  // IoError otherwise.
  core::Status open(const std::string& path);
  // Reads `input` from its start instead of a file (closing any open one).
  void open(std::unique_ptr<ByteInput> input);
  void close();
  bool is_open() const { return fd_ >= 0 || input_ != nullptr; }

  // The next complete line. Returns false at the file's current end: a last line without
  // its newline waits in the reader (has_partial()) until more bytes arrive. `hash`
  // false skips hashing an oversized line (its sha256 is then empty). IoError on a read
  // failure.
  core::Result<bool> next(Line& out, bool hash = true);
  // Whether bytes after the last newline are held (a line still being written).
  bool has_partial() const { return skipping_ || end_ > begin_; }
  // Hands out the held partial line as if the input ended there, and consumes it.
  Line take_partial();
  // Bytes of the file consumed: through the end of the last line handed out.
  uint64_t consumed() const { return consumed_; }
  // Bytes the read buffer holds now (grows for a long line, shrinks after it).
  size_t buffer_bytes() const { return buf_.capacity(); }

 private:
  core::Status fill(bool& eof);
  void start_skipping();
  void absorb(std::string_view data, bool at_newline);
  Line finish_skipping();

  size_t max_;
  size_t keep_;
  int fd_ = -1;
  std::unique_ptr<ByteInput> input_;  // instead of fd_ when set
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unconsumed bytes
  size_t scan_ = 0;             // no newline in [begin_, scan_)
  uint64_t consumed_ = 0;
  bool hash_ = true;
  // An oversized line being skipped: its first bytes, its size so far, its hash.
  bool skipping_ = false;
  std::string keep_buf_;
  uint64_t skip_size_ = 0;   // bytes of the line (without a "\r" before its newline)
  uint64_t skip_bytes_ = 0;  // bytes of the file it took so far
  bool pending_cr_ = false;  // a "\r" not hashed yet: it may be the "\r" of a "\r\n"
  core::Sha256 sha_;
};

}  // namespace pinstream::connectors::files
