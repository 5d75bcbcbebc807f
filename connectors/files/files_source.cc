#include "connectors/files/files_source.h"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <map>

namespace pinstream::connectors::files {
namespace fs = std::filesystem;
using core::Status;

bool parse_position(const std::string& position, std::string& file, int64_t& line) {
  size_t colon = position.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == position.size()) return false;
  char* end = nullptr;
  long long v = std::strtoll(position.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || v < 0) return false;
  file = position.substr(0, colon);
  line = v;
  return true;
}

namespace {

// "<topic>+<p>+<offset>.json" sorts by offset; anything else by name.
int64_t start_offset(const std::string& name) {
  size_t plus = name.rfind('+');
  if (plus == std::string::npos) return -1;
  char* end = nullptr;
  long long v = std::strtoll(name.c_str() + plus + 1, &end, 10);
  return (end && std::string(end) == ".json") ? v : -1;
}

bool file_less(const std::string& a, const std::string& b) {
  int64_t oa = start_offset(a), ob = start_offset(b);
  if (oa >= 0 && ob >= 0 && oa != ob) return oa < ob;
  return a < b;
}

struct Partition {
  core::PartitionRef ref;
  fs::path dir;
  std::string pattern;          // file name pattern (fnmatch)
  std::vector<std::string> files;  // known files, in read order
  size_t file_idx = 0;          // current file
  FILE* fp = nullptr;
  int64_t line = 0;             // lines consumed in the current file
  int64_t skip_lines = 0;       // lines to skip after opening (restore)
  bool at_end = false;          // current file read to its end and no later file known
  std::string last_file;        // file and line of the last record returned
  int64_t last_line = 0;

  ~Partition() {
    if (fp) std::fclose(fp);
  }
};

class FilesSource final : public Source {
 public:
  FilesSource(std::vector<std::unique_ptr<Partition>> parts, std::vector<std::pair<uint32_t, std::string>> topics,
              fs::path root)
      : parts_(std::move(parts)), topics_(std::move(topics)), root_(std::move(root)) {}
  ~FilesSource() override { std::free(line_buf_); }

  Status open(const core::Positions& restore) override {
    restore_ = restore;
    for (auto& p : parts_) apply_restore(*p);  // glob partitions exist from the start
    discover();
    return Status::ok();
  }

  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override {
    size_t got = 0;
    if (parts_.empty() || all_at_end()) maybe_rescan();
    size_t share = std::max<size_t>(1, max_records / std::max<size_t>(1, parts_.size()));
    for (size_t pi = 0; pi < parts_.size() && got < max_records; ++pi) {
      Partition& p = *parts_[pi];
      size_t want = std::min(share, max_records - got);
      auto n = read_some(p, static_cast<uint32_t>(pi), out, want);
      if (!n) return n.error();
      got += *n;
    }
    // Nothing new: wait as the contract allows instead of letting the caller spin (an idle
    // daemon on a files source used a whole core before).
    if (got == 0 && timeout.count() > 0) std::this_thread::sleep_for(timeout);
    return got;
  }

  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }

  core::Positions positions() const override {
    core::Positions out;
    for (const auto& p : parts_)
      if (!p->last_file.empty()) out[p->ref.id] = p->last_file + ":" + std::to_string(p->last_line);
    return out;
  }

  // Unread bytes: the rest of the current file and every later known file.
  std::map<uint32_t, int64_t> lag() const override {
    std::map<uint32_t, int64_t> out;
    for (uint32_t i = 0; i < parts_.size(); ++i) {
      const Partition& p = *parts_[i];
      int64_t bytes = 0;
      std::error_code ec;
      for (size_t f = p.file_idx; f < p.files.size(); ++f) {
        auto size = fs::file_size(p.dir / p.files[f], ec);
        if (!ec) bytes += static_cast<int64_t>(size);
      }
      if (p.fp && p.file_idx < p.files.size()) bytes -= std::max<long>(0, std::ftell(p.fp));
      out[i] = std::max<int64_t>(0, bytes);
    }
    return out;
  }
  const char* lag_unit() const override { return "bytes"; }

  bool drained() const override {
    if (!all_at_end()) return false;
    // A final look for files that appeared since the last scan.
    const_cast<FilesSource*>(this)->rescan_now();
    return all_at_end();
  }

 private:
  bool all_at_end() const {
    for (const auto& p : parts_)
      if (!p->at_end) return false;
    return true;
  }

  void maybe_rescan() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_scan_ < std::chrono::milliseconds(200)) return;
    rescan_now();
  }

  void rescan_now() {
    last_scan_ = std::chrono::steady_clock::now();
    discover();
  }

  // Finds partitions (S3-sink topics) and files; keeps read order stable.
  void discover() {
    for (const auto& [stream, topic] : topics_) {
      fs::path tdir = root_ / "topics" / topic;
      std::error_code ec;
      if (!fs::is_directory(tdir, ec)) continue;
      for (const auto& entry : fs::directory_iterator(tdir, ec)) {
        std::string name = entry.path().filename().string();
        if (!entry.is_directory() || name.rfind("partition=", 0) != 0) continue;
        std::string id = topic + "/" + name.substr(10);
        if (find(id)) continue;
        auto p = std::make_unique<Partition>();
        p->ref = {id, stream};
        p->dir = entry.path();
        p->pattern = "*.json";
        parts_.push_back(std::move(p));
        apply_restore(*parts_.back());
      }
    }
    refs_.clear();
    for (auto& p : parts_) {
      refs_.push_back(p->ref);
      list_files(*p);
    }
  }

  Partition* find(const std::string& id) {
    for (auto& p : parts_)
      if (p->ref.id == id) return p.get();
    return nullptr;
  }

  void list_files(Partition& p) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(p.dir, ec)) {
      std::string name = entry.path().filename().string();
      if (entry.is_regular_file(ec) && ::fnmatch(p.pattern.c_str(), name.c_str(), 0) == 0)
        names.push_back(name);
    }
    std::sort(names.begin(), names.end(), file_less);
    std::string current = p.file_idx < p.files.size() ? p.files[p.file_idx] : "";
    if (names.size() == p.files.size()) return;
    p.files = std::move(names);
    if (!current.empty()) {
      auto it = std::find(p.files.begin(), p.files.end(), current);
      p.file_idx = static_cast<size_t>(it - p.files.begin());
    }
    if (p.file_idx + 1 < p.files.size() || (!p.fp && p.file_idx < p.files.size())) p.at_end = false;
  }

  void apply_restore(Partition& p) {
    auto it = restore_.find(p.ref.id);
    if (it == restore_.end()) return;
    std::string file;
    int64_t line = 0;
    if (!parse_position(it->second, file, line)) {
      spdlog::warn("Ignoring malformed file position. partition={} position={}", p.ref.id, it->second);
      return;
    }
    list_files(p);
    auto f = std::find(p.files.begin(), p.files.end(), file);
    if (f != p.files.end()) {
      p.file_idx = static_cast<size_t>(f - p.files.begin());
      p.skip_lines = line;
    } else {
      // The file is gone (retention): resume at the first file ordered after it.
      spdlog::warn("Restored file is gone; resuming after it. partition={} file={}", p.ref.id, file);
      p.file_idx = 0;
      while (p.file_idx < p.files.size() && !file_less(file, p.files[p.file_idx])) ++p.file_idx;
    }
    p.last_file = file;
    p.last_line = line;
  }

  core::Result<size_t> read_some(Partition& p, uint32_t pidx, core::Batch& out, size_t want);

  std::vector<std::unique_ptr<Partition>> parts_;
  std::vector<std::pair<uint32_t, std::string>> topics_;
  fs::path root_;
  std::vector<core::PartitionRef> refs_;
  core::Positions restore_;
  std::chrono::steady_clock::time_point last_scan_{};
  char* line_buf_ = nullptr;
  size_t line_cap_ = 0;
};

core::Result<size_t> FilesSource::read_some(Partition& p, uint32_t pidx, core::Batch& out,
                                            size_t want) {
  size_t n = 0;
  while (n < want) {
    if (!p.fp) {
      if (p.file_idx >= p.files.size()) {
        p.at_end = true;
        break;
      }
      fs::path path = p.dir / p.files[p.file_idx];
      p.fp = std::fopen(path.c_str(), "rb");
      if (!p.fp) return Status::io("cannot open " + path.string());
      p.line = 0;
      for (; p.skip_lines > 0; --p.skip_lines) {
        if (::getline(&line_buf_, &line_cap_, p.fp) < 0) break;
        ++p.line;
      }
      p.skip_lines = 0;
    }
    ssize_t len = ::getline(&line_buf_, &line_cap_, p.fp);
    if (len < 0) {
      if (p.file_idx + 1 < p.files.size()) {
        std::fclose(p.fp);
        p.fp = nullptr;
        ++p.file_idx;
        continue;
      }
      std::clearerr(p.fp);  // the file may still grow; a later poll reads on
      p.at_end = true;
      break;
    }
    ++p.line;
    auto size = static_cast<size_t>(len);
    while (size > 0 && (line_buf_[size - 1] == '\n' || line_buf_[size - 1] == '\r')) --size;
    if (size == 0) continue;  // blank lines are not records
    core::RawRecord& r = out.next();
    r.partition = pidx;
    r.bytes.assign(line_buf_, size);
    const std::string& name = p.files[p.file_idx];
    r.position.reserve(name.size() + 12);
    r.position.append(name).append(1, ':').append(std::to_string(p.line));
    if (p.last_file != name) p.last_file = name;
    p.last_line = p.line;
    ++n;
  }
  return n;
}

// Splits "dir/pattern" into a directory and a file-name pattern.
void split_glob(const std::string& glob, fs::path& dir, std::string& pattern) {
  fs::path g(glob);
  dir = g.parent_path().empty() ? fs::path(".") : g.parent_path();
  pattern = g.filename().string();
}

}  // namespace

std::unique_ptr<Source> make_source(const std::vector<StreamBinding>& bindings,
                                    const core::ConfigNode* settings, core::Status& error) {
  std::string root;
  if (settings) {
    auto r = settings->get_string("root", "");
    if (!r) { error = r.error(); return nullptr; }
    root = *r;
    if (Status st = settings->reject_unknown_keys(); !st.is_ok()) { error = st; return nullptr; }
  }
  std::vector<std::unique_ptr<Partition>> parts;
  std::vector<std::pair<uint32_t, std::string>> topics;
  for (const auto& b : bindings) {
    if (!b.config || !b.config->is_map()) {
      error = Status::invalid("stream '" + b.stream_name + "' has no files source settings");
      return nullptr;
    }
    auto topic = b.config->get_string("topic", "");
    auto glob = b.config->get_string("glob", "");
    if (!topic) { error = topic.error(); return nullptr; }
    if (!glob) { error = glob.error(); return nullptr; }
    if (Status st = b.config->reject_unknown_keys(); !st.is_ok()) { error = st; return nullptr; }
    if (topic->empty() == glob->empty()) {
      error = b.config->error("set exactly one of 'topic' (S3-sink layout under root) or 'glob'");
      return nullptr;
    }
    if (!topic->empty()) {
      if (root.empty()) {
        error = b.config->error("'topic' needs source.files.root (PINSTREAM_FILES) to be set");
        return nullptr;
      }
      topics.emplace_back(b.stream, *topic);
    } else {
      auto p = std::make_unique<Partition>();
      p->ref = {b.stream_name + "/" + *glob, b.stream};
      split_glob(*glob, p->dir, p->pattern);
      parts.push_back(std::move(p));
    }
  }
  return std::make_unique<FilesSource>(std::move(parts), std::move(topics), root);
}

}  // namespace pinstream::connectors::files
