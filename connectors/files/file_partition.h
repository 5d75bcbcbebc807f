// One partition of the files source: a directory and a file-name pattern, read file by file
// in name order (S3-sink names by start offset), line by line. Files are tracked by name:
// the done set holds every file read to its end, so a file that appears late is still read,
// after the current one, whatever its name sorts as. A partition is a local directory, or a
// folder of objects in a store (S3), listed by the source and read in ranged GETs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/files/line_reader.h"
#include "connectors/files/object_input.h"
#include "connectors/objstore/object_store.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors::files {

// Read order: "<topic>+<p>+<offset>.json" names by offset, before any other name; others
// by name.
bool file_less(const std::string& a, const std::string& b);
struct FileLess {
  bool operator()(const std::string& a, const std::string& b) const { return file_less(a, b); }
};

class FilePartition {
 public:
  FilePartition(core::PartitionRef ref, std::filesystem::path dir, std::string pattern,
                size_t max_record_bytes);
  // A folder of objects: `prefix` is its key in `store`, ending with '/'. It learns its
  // objects from set_objects(). An object is written whole, so its last line is complete
  // even without a newline: it is a record like the others (a local file's waits).
  FilePartition(core::PartitionRef ref, std::shared_ptr<objstore::ObjectStore> store,
                std::string prefix, std::string pattern, size_t max_record_bytes,
                uint64_t chunk_bytes = kObjectChunkBytes);
  const core::PartitionRef& ref() const { return ref_; }
  // The objects the source's latest listing found in this folder: name -> size. Applied
  // by the next list().
  void set_objects(std::map<std::string, uint64_t> objects) { objects_ = std::move(objects); }

  // Resumes after `position` (as position() made it, or the older "name:line"). A malformed
  // one is logged and ignored (the partition starts at the beginning).
  void restore(const std::string& position);
  // Lists the directory again: files not done and not current are to be read.
  void list();
  // Appends up to `want` complete lines as records of partition `index`. IoError when a
  // file cannot be read.
  core::Result<size_t> read(uint32_t index, core::Batch& out, size_t want);
  // Read to the current end of the last file (a partial last line may wait).
  bool at_end() const { return at_end_; }
  // Makes the next read() hand out a waiting partial last line, cut as truncated. Returns
  // whether one waits.
  bool release_partial();
  // What an epoch commits; nullopt while nothing has been read.
  std::optional<std::string> position() const;
  // Unread bytes: files to read, and the rest of the current one.
  int64_t lag_bytes() const;
  // --available-now (file_end.cc): fixes the files present now and their sizes; from then
  // on only those are listed, and a line that ends past its file's size at this moment
  // stops the partition for this run (it and what follows are left for the next run).
  // `none`: a partition found after the start, none of whose files belong to the run.
  // Returns the position to log: {"files":N,"bytes":B,"last":"<last file in read order>"}.
  std::string fix_end(bool none = false);

 private:
  bool list_names(std::vector<std::string>& names) const;
  void next_file();
  core::Status open_current(bool& gone);
  void emit(uint32_t index, core::Batch& out, const LineReader::Line& line, core::RecordCut cut);
  bool read_partial(uint32_t index, core::Batch& out);
  void read_last_line(uint32_t index, core::Batch& out, size_t& n);
  bool beyond_end(const std::string& name) const;
  bool line_past_end() const;

  core::PartitionRef ref_;
  std::filesystem::path dir_;
  std::string pattern_;                           // file name pattern (fnmatch)
  std::shared_ptr<objstore::ObjectStore> store_;  // null: dir_ is a local directory
  std::string prefix_;                            // the folder's key in store_
  std::map<std::string, uint64_t> objects_;       // in store_: name -> size, as listed
  uint64_t chunk_bytes_ = kObjectChunkBytes;      // per ranged GET
  std::set<std::string, FileLess> done_;
  std::vector<std::string> todo_;  // in read order
  std::string current_;            // the file being read; "" before the first
  int64_t line_ = 0;               // lines of current_ consumed (what the position says)
  int64_t passed_ = 0;             // lines of current_ read since it was opened
  LineReader reader_;
  bool at_end_ = false;
  bool release_ = false;
  std::string warned_;  // the file whose unfinished last line was reported
  std::optional<std::map<std::string, uint64_t>> end_;  // --available-now: sizes at start
  bool stopped_ = false;  // a line past the end was met: nothing more this run
};

}  // namespace pinstream::connectors::files
