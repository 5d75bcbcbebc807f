#include "tests/support/test_support.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace pinstream::testing {
namespace fs = std::filesystem;

fs::path source_dir() { return PINSTREAM_SOURCE_DIR; }
fs::path binary_dir() { return PINSTREAM_BINARY_DIR; }
fs::path shared_data_dir() {
  if (const char* d = std::getenv("PINSTREAM_SHARED_DATA")) return d;
  return fs::path(PINSTREAM_SHARED_DIR) / "data";
}
fs::path node_tools_dir() { return source_dir() / ".tools" / "node"; }
fs::path pinstream_binary() { return binary_dir() / "pinstream"; }

TempDir::TempDir(const std::string& prefix) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() /
                 (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temp dir");
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!std::getenv("PINSTREAM_KEEP_TEST_DIRS")) fs::remove_all(path_, ec);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_in_file(const fs::path& p, std::string_view needle) {
  const std::string text = read_file(p);
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

int run_command(const std::string& cmd, std::string* output, bool merge_stderr) {
  std::string full = merge_stderr ? cmd + " 2>&1" : cmd;
  FILE* f = ::popen(full.c_str(), "r");
  if (!f) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
    if (output) output->append(buf.data(), n);
  int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int duckdb_query(const std::string& sql, std::string* json) {
  TempDir dir("pinstream-duckdb");
  write_file(dir / "q.sql", sql);
  std::string script = R"JS(
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(fs.readFileSync(process.argv[2], 'utf8'));
  // BIGINT as a number when it is exact, else as a decimal string; timestamps as ISO text.
  const rows = r.getRowObjectsJS();
  process.stdout.write(JSON.stringify(rows, (k, v) =>
      typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
})().catch(e => { process.stderr.write(String(e && e.message || e) + '\n'); process.exit(1); });
)JS";
  write_file(dir / "q.js", script);
  std::string cmd = "NODE_PATH='" + (node_tools_dir() / "node_modules").string() + "' node '" +
                    (dir / "q.js").string() + "' '" + (dir / "q.sql").string() + "'";
  std::string out;
  int rc = run_command(cmd, &out, false);
  if (json) *json = out;
  return rc;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

int connect_unix_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace pinstream::testing
