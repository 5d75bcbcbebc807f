#include "connectors/delta/inspect.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "connectors/delta/checkpoint.h"
#include "stream/core/crc32c.h"

namespace pinstream::connectors::delta {
namespace fs = std::filesystem;

namespace {

std::string commit_file(const std::string& log_dir, int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/%020lld.json", static_cast<long long>(version));
  return log_dir + buf;
}

// Paths in add actions are URL-encoded (partition directories use %XX escapes).
std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

int64_t max_commit_version(const std::string& log_dir) {
  int64_t best = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(log_dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() != 25 || n.compare(20, 5, ".json") != 0) continue;
    if (n.find_first_not_of("0123456789") != 20) continue;
    best = std::max<int64_t>(best, std::stoll(n.substr(0, 20)));
  }
  return best;
}

LogReport inspect_log(const std::string& table_dir) {
  LogReport r;
  const std::string log_dir = table_dir + "/_delta_log";
  if (!fs::is_directory(log_dir)) {
    r.problems.push_back(table_dir + ": no _delta_log directory");
    return r;
  }
  if (auto cp = last_checkpoint(log_dir)) {
    auto s = read_checkpoint(log_dir, *cp);
    if (s.has_value())
      r.snapshot = std::move(*s);
    else
      r.problems.push_back("checkpoint " + checkpoint_path(log_dir, *cp) +
                           " is unreadable: " + s.error().message());
  }
  const int64_t last = max_commit_version(log_dir);
  for (int64_t v = r.snapshot.version + 1; v <= last; ++v) {
    const std::string p = commit_file(log_dir, v);
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      r.problems.push_back("Delta commit " + p + " is missing (version " + std::to_string(last) +
                           " exists)");
      break;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      r.problems.push_back("Delta commit " + p + " is empty (" + std::to_string(text.size()) +
                           " bytes)");
      break;
    }
    core::Status st = r.snapshot.apply_commit(text);
    if (!st.is_ok()) {
      r.problems.push_back("Delta commit " + p + " is unreadable: " + st.message());
      break;
    }
    r.snapshot.version = v;
  }
  return r;
}

std::string check_file(const std::string& table_dir, const AddFile& add, bool checksum) {
  const std::string p = table_dir + "/" + url_decode(add.path);
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return "data file " + p + " is missing";
  if (static_cast<int64_t>(size) != add.size)
    return "data file " + p + " has " + std::to_string(size) + " bytes, its add action says " +
           std::to_string(add.size);
  auto tag = add.tags.find(kCrc32cTag);
  if (!checksum || tag == add.tags.end()) return "";  // files written by other tools: size only
  std::ifstream in(p, std::ios::binary);
  uint32_t crc = 0;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    crc = core::crc32c_extend(crc, buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (core::crc32c_hex(crc) != tag->second)
    return "data file " + p + " is corrupt: CRC-32C " + core::crc32c_hex(crc) + ", recorded " +
           tag->second;
  return "";
}

std::vector<std::string> check_files(const std::string& table_dir, const Snapshot& snap,
                                     int64_t& checked) {
  std::vector<std::string> problems;
  for (const auto& [path, add] : snap.active) {
    ++checked;
    std::string p = check_file(table_dir, add, true);
    if (!p.empty())
      problems.push_back(p + " (live at version " + std::to_string(snap.version) + ")");
  }
  return problems;
}

}  // namespace pinstream::connectors::delta
