// What a files partition commits as its position: the file being read, how many of its
// lines are consumed, and the names of the files read to their end. Files are tracked by
// name, so a file that appears late (whatever its name sorts as) is still read. One JSON
// line, the done names front-coded ([chars shared with the previous name, rest]):
//   {"file":"t+0+200.json","line":17,"done":[[0,"t+0+0.json"],[4,"100.json"]]}
// The format before it, "name:line", still restores: every file sorted before `name`
// then counts as read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pinstream::connectors::files {

struct FilePosition {
  std::string file;               // the file being read
  int64_t line = 0;               // its lines consumed (blank ones included)
  std::vector<std::string> done;  // files read to their end, in encoding order
  bool legacy = false;            // decoded from "name:line" (no done list)
};

std::string encode_position(const FilePosition& p);
// False when `text` is neither format.
bool decode_position(const std::string& text, FilePosition& out);

// Splits a record's position "name:line" into its parts; false when malformed.
bool parse_position(const std::string& position, std::string& file, int64_t& line);

}  // namespace pinstream::connectors::files
