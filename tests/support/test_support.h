// Helpers every test uses: unique temp directories, free loopback ports, deadline-polling
// waits (never fixed sleeps), and the paths of the repository, build, shared data and the
// npm tools installed by scripts/setup.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pinstream::testing {

std::filesystem::path source_dir();       // repository root
std::filesystem::path binary_dir();       // build directory (holds ./pinstream)
std::filesystem::path shared_data_dir();  // ../shared/data
std::filesystem::path node_tools_dir();   // .tools/node (node_modules inside)
std::filesystem::path pinstream_binary();

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "pinstream-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Polls `cond` every `step` until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(20));

// Reads a whole file; empty string when it cannot be read.
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);
std::vector<std::string> read_lines(const std::filesystem::path& p);
// How often `needle` occurs in the file (0 when it cannot be read).
size_t count_in_file(const std::filesystem::path& p, std::string_view needle);
// The line every daemon logs once it serves (its query socket is up): for tests that must
// act while a daemon they spawned is running, whatever its start-up time.
inline constexpr std::string_view kDaemonUp = "Query socket listening.";

// Runs a shell command, capturing stdout (and stderr when merge_stderr); returns exit code.
int run_command(const std::string& cmd, std::string* output = nullptr, bool merge_stderr = true);

// Runs a DuckDB SQL query with node and @duckdb/node-api; returns rows as JSON text
// (an array of objects, BigInts as numbers/strings) in *json. Exit code 0 on success.
int duckdb_query(const std::string& sql, std::string* json);

// A connected Unix stream socket to `path` (the caller closes it), or -1.
int connect_unix_socket(const std::string& path);

// A unique name for topics, tables and streams: "<prefix>-<pid>-<counter>".
std::string unique_name(const std::string& prefix);

}  // namespace pinstream::testing
