#include "connectors/files/files_source.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "connectors/files/file_partition.h"

namespace pinstream::connectors::files {
namespace fs = std::filesystem;
using core::Status;

namespace {

struct Topic {
  uint32_t stream = 0;
  std::string name;
  size_t max_record_bytes = 0;
};

class FilesSource final : public Source {
 public:
  FilesSource(std::vector<std::unique_ptr<FilePartition>> parts, std::vector<Topic> topics,
              fs::path root)
      : parts_(std::move(parts)), topics_(std::move(topics)), root_(std::move(root)) {}

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
      size_t want = std::min(share, max_records - got);
      PS_ASSIGN_OR_RETURN(size_t n, parts_[pi]->read(static_cast<uint32_t>(pi), out, want));
      got += n;
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
      if (auto pos = p->position()) out[p->ref().id] = std::move(*pos);
    return out;
  }

  std::map<uint32_t, int64_t> lag() const override {
    std::map<uint32_t, int64_t> out;
    for (uint32_t i = 0; i < parts_.size(); ++i) out[i] = parts_[i]->lag_bytes();
    return out;
  }
  const char* lag_unit() const override { return "bytes"; }

  bool drained() const override {
    if (!all_at_end()) return false;
    // A final look for files that appeared since the last scan.
    const_cast<FilesSource*>(this)->rescan_now();
    return all_at_end();
  }

  core::Result<core::Positions> fix_end_positions() override {
    discover();
    core::Positions out;
    for (auto& p : parts_) out[p->ref().id] = p->fix_end();
    has_end_ = true;
    return out;
  }

  bool release_partial() override {
    bool any = false;
    for (auto& p : parts_) any = p->release_partial() || any;
    return any;
  }

 private:
  bool all_at_end() const {
    return std::all_of(parts_.begin(), parts_.end(), [](const auto& p) { return p->at_end(); });
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

  // Finds partitions (S3-sink topics) and their files; partition indices stay stable.
  void discover() {
    for (const auto& topic : topics_) {
      fs::path tdir = root_ / "topics" / topic.name;
      std::error_code ec;
      if (!fs::is_directory(tdir, ec)) continue;
      for (fs::directory_iterator it(tdir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || name.rfind("partition=", 0) != 0) continue;
        std::string id = topic.name + "/" + name.substr(10);
        if (find(id)) continue;
        parts_.push_back(std::make_unique<FilePartition>(core::PartitionRef{id, topic.stream},
                                                         it->path(), "*.json",
                                                         topic.max_record_bytes));
        apply_restore(*parts_.back());
        if (has_end_) parts_.back()->fix_end(/*none=*/true);  // appeared after the start
      }
    }
    refs_.clear();
    for (auto& p : parts_) {
      refs_.push_back(p->ref());
      p->list();
    }
  }

  FilePartition* find(const std::string& id) {
    for (auto& p : parts_)
      if (p->ref().id == id) return p.get();
    return nullptr;
  }

  void apply_restore(FilePartition& p) {
    auto it = restore_.find(p.ref().id);
    if (it != restore_.end()) p.restore(it->second);
  }

  std::vector<std::unique_ptr<FilePartition>> parts_;
  std::vector<Topic> topics_;
  fs::path root_;
  std::vector<core::PartitionRef> refs_;
  core::Positions restore_;
  std::chrono::steady_clock::time_point last_scan_{};
  bool has_end_ = false;  // --available-now
};

// Splits "dir/pattern" into a directory and a file-name pattern.
void split_glob(const std::string& glob, fs::path& dir, std::string& pattern) {
  fs::path g(glob);
  dir = g.parent_path().empty() ? fs::path(".") : g.parent_path();
  pattern = g.filename().string();
}

// A directory that does not exist is a typo far more often than data still to come:
// refused at start, naming the path (an empty directory is fine).
Status check_directory(const fs::path& dir, const core::ConfigNode& node, const char* what) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  return node.error(std::string(what) + " " + dir.string() +
                    " does not exist or is not a directory; create it or correct the path");
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
  std::vector<std::unique_ptr<FilePartition>> parts;
  std::vector<Topic> topics;
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
      error = check_directory(root, *settings->find("root"), "files root (PINSTREAM_FILES)");
      if (!error.is_ok()) return nullptr;
      topics.push_back({b.stream, *topic, b.max_record_bytes});
    } else {
      fs::path dir;
      std::string pattern;
      split_glob(*glob, dir, pattern);
      error = check_directory(dir, *b.config->find("glob"), "the glob's directory");
      if (!error.is_ok()) return nullptr;
      parts.push_back(std::make_unique<FilePartition>(
          core::PartitionRef{b.stream_name + "/" + *glob, b.stream}, dir, pattern,
          b.max_record_bytes));
    }
  }
  return std::make_unique<FilesSource>(std::move(parts), std::move(topics), root);
}

}  // namespace pinstream::connectors::files
