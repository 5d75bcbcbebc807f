#include "connectors/files/files_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "connectors/files/file_partition.h"
#include "connectors/objstore/object_store.h"
#include "connectors/poll_budget.h"

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
  // `store`: the root's objects when it is remote (null: the local directory `root`).
  FilesSource(std::vector<std::unique_ptr<FilePartition>> parts, std::vector<Topic> topics,
              fs::path root, std::shared_ptr<objstore::ObjectStore> store,
              std::chrono::milliseconds list_interval, uint64_t chunk_bytes)
      : parts_(std::move(parts)),
        topics_(std::move(topics)),
        root_(std::move(root)),
        store_(std::move(store)),
        list_interval_(list_interval),
        chunk_bytes_(chunk_bytes) {}

  void set_bounded(bool bounded) override { bounded_ = bounded; }

  Status open(const core::Positions& restore) override {
    restore_ = restore;
    for (auto& p : parts_) apply_restore(*p);  // glob partitions exist from the start
    discover();
    // Nothing listed yet: the root cannot be read, a failure to report now.
    Status st = list_error_;
    list_error_ = Status::ok();
    return st;
  }

  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override {
    size_t got = 0;
    if (parts_.empty() || all_at_end()) maybe_rescan();
    // A bounded run must not end on a stale listing: the store's failure ends it.
    if (!list_error_.is_ok() && bounded_) return list_error_;
    max_records = budget_.records(max_records);  // decoded while still in cache
    const size_t first = out.size;
    size_t share = std::max<size_t>(1, max_records / std::max<size_t>(1, parts_.size()));
    for (size_t pi = 0; pi < parts_.size() && got < max_records; ++pi) {
      size_t want = std::min(share, max_records - got);
      PS_ASSIGN_OR_RETURN(size_t n, parts_[pi]->read(static_cast<uint32_t>(pi), out, want));
      got += n;
    }
    budget_.learn(out, first);
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
  LagUnit lag_unit() const override { return LagUnit::kBytes; }

  bool drained() const override {
    if (!all_at_end()) return false;
    // A final look for files that appeared since the last scan.
    const_cast<FilesSource*>(this)->rescan_now();
    return all_at_end() && list_error_.is_ok();
  }

  core::Result<core::Positions> fix_end_positions() override {
    discover();
    if (!list_error_.is_ok()) return list_error_;  // ends fixed on a failed listing: wrong
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
    if (now - last_scan_ < list_interval_) return;
    rescan_now();
  }

  void rescan_now() {
    last_scan_ = std::chrono::steady_clock::now();
    discover();
  }

  // Finds partitions (S3-sink topics) and their files; partition indices stay stable.
  void discover() {
    if (store_) {
      list_error_ = Status::ok();
      for (const auto& topic : topics_) discover_objects(topic);
    } else {
      discover_directories();
    }
    refs_.clear();
    for (auto& p : parts_) {
      refs_.push_back(p->ref());
      p->list();
    }
  }

  // One listing of the topic's objects gives its partition folders and their objects.
  void discover_objects(const Topic& topic) {
    const std::string folder = "topics/" + topic.name + "/";
    auto listed = store_->list(folder);
    if (!listed) {
      list_error_ =
          Status(listed.error().code(), "cannot list the files root " + store_->describe() + ": " +
                                            listed.error().message());
      spdlog::warn("Cannot list the files root; keeping what is known. root={} error={}",
                   store_->describe(), listed.error().message());
      return;
    }
    std::map<std::string, std::map<std::string, uint64_t>> by_folder;  // "partition=<p>"
    for (const auto& o : *listed) {
      std::string_view rest(o.key);
      rest.remove_prefix(folder.size());
      const size_t slash = rest.find('/');
      if (slash == std::string_view::npos || rest.rfind("partition=", 0) != 0 ||
          rest.find('/', slash + 1) != std::string_view::npos)
        continue;
      by_folder[std::string(rest.substr(0, slash))][std::string(rest.substr(slash + 1))] = o.size;
    }
    for (const auto& p : parts_)  // folders emptied (retention) have no objects left
      if (p->ref().id.rfind(topic.name + "/", 0) == 0) p->set_objects({});
    for (auto& [name, objects] : by_folder) {
      const std::string id = topic.name + "/" + name.substr(10);
      FilePartition* p = find(id);
      if (!p) {
        parts_.push_back(std::make_unique<FilePartition>(core::PartitionRef{id, topic.stream},
                                                         store_, folder + name + "/", "*.json",
                                                         topic.max_record_bytes, chunk_bytes_));
        p = parts_.back().get();
        p->set_objects(std::move(objects));
        apply_restore(*p);
        if (has_end_) p->fix_end(/*none=*/true);  // appeared after the start
      } else {
        p->set_objects(std::move(objects));
      }
    }
  }

  void discover_directories() {
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
        parts_.push_back(std::make_unique<FilePartition>(
            core::PartitionRef{id, topic.stream}, it->path(), "*.json", topic.max_record_bytes));
        apply_restore(*parts_.back());
        if (has_end_) parts_.back()->fix_end(/*none=*/true);  // appeared after the start
      }
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
  std::shared_ptr<objstore::ObjectStore> store_;
  std::chrono::milliseconds list_interval_;
  uint64_t chunk_bytes_;
  bool bounded_ = false;
  PollBudget budget_;
  Status list_error_;  // the last listing's failure (remote roots)
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

// A remote root is opened and checked at start: a missing bucket or refused credentials
// are configuration errors naming the key, an unreachable endpoint a runtime failure.
Status open_remote_root(const std::string& root, const core::ConfigNode& node,
                        std::shared_ptr<objstore::ObjectStore>& store) {
  auto opened = objstore::open_store(root);
  if (!opened) return node.error(opened.error().message());
  store = std::move(*opened);
  Status st = store->check();
  if (st.is_ok()) return st;
  const std::string what = "files root (PINSTREAM_FILES) " + root + ": " + st.message();
  if (st.code() == core::StatusCode::kInvalidArgument || st.code() == core::StatusCode::kNotFound)
    return node.error(what);
  return Status(st.code(), what);
}

struct RootSettings {
  std::string root;
  int64_t list_interval_ms = 0;
  int64_t read_chunk_bytes = 0;
};

Status read_settings(const core::ConfigNode* settings, RootSettings& out) {
  if (!settings) return Status::ok();
  PS_ASSIGN_OR_RETURN(out.root, settings->get_string("root", ""));
  const bool remote = objstore::is_remote_url(out.root);
  PS_ASSIGN_OR_RETURN(
      out.list_interval_ms,
      settings->get_int("list_interval_ms", remote ? kRemoteListIntervalMs : kLocalListIntervalMs));
  if (out.list_interval_ms < 1 || out.list_interval_ms > 3'600'000)
    return settings->find("list_interval_ms")->error("must be between 1 and 3600000");
  PS_ASSIGN_OR_RETURN(
      out.read_chunk_bytes,
      settings->get_int("read_chunk_bytes", static_cast<int64_t>(kObjectChunkBytes)));
  if (out.read_chunk_bytes < 1024 || out.read_chunk_bytes > (int64_t{1} << 30))
    return settings->find("read_chunk_bytes")->error("must be between 1024 and 1073741824");
  return settings->reject_unknown_keys();
}

// Checks the root once, when the first stream uses `topic`.
Status check_root(const core::ConfigNode* settings, const RootSettings& rs,
                  std::shared_ptr<objstore::ObjectStore>& store) {
  const core::ConfigNode& node = *settings->find("root");
  if (objstore::is_remote_url(rs.root))
    return store ? Status::ok() : open_remote_root(rs.root, node, store);
  return check_directory(rs.root, node, "files root (PINSTREAM_FILES)");
}

}  // namespace

core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings) {
  Status error;
  RootSettings rs;
  rs.list_interval_ms = kLocalListIntervalMs;
  rs.read_chunk_bytes = static_cast<int64_t>(kObjectChunkBytes);
  if (error = read_settings(settings, rs); !error.is_ok()) return error;
  std::shared_ptr<objstore::ObjectStore> store;
  std::vector<std::unique_ptr<FilePartition>> parts;
  std::vector<Topic> topics;
  for (const auto& b : bindings) {
    if (!b.config || !b.config->is_map()) {
      error = Status::invalid("stream '" + b.stream_name + "' has no files source settings");
      return error;
    }
    auto topic = b.config->get_string("topic", "");
    auto glob = b.config->get_string("glob", "");
    if (!topic) {
      error = topic.error();
      return error;
    }
    if (!glob) {
      error = glob.error();
      return error;
    }
    if (Status st = b.config->reject_unknown_keys(); !st.is_ok()) {
      error = st;
      return error;
    }
    if (topic->empty() == glob->empty()) {
      error = b.config->error("set exactly one of 'topic' (S3-sink layout under root) or 'glob'");
      return error;
    }
    if (!topic->empty()) {
      if (rs.root.empty()) {
        error = b.config->error("'topic' needs source.files.root (PINSTREAM_FILES) to be set");
        return error;
      }
      if (error = check_root(settings, rs, store); !error.is_ok()) return error;
      topics.push_back({b.stream, *topic, b.max_record_bytes});
    } else {
      if (objstore::is_remote_url(*glob) || glob->find("://") != std::string::npos) {
        error = b.config->find("glob")->error(
            "a glob reads local files only; for objects in S3 set source.files.root to "
            "s3://bucket/prefix and the stream's 'topic'");
        return error;
      }
      fs::path dir;
      std::string pattern;
      split_glob(*glob, dir, pattern);
      error = check_directory(dir, *b.config->find("glob"), "the glob's directory");
      if (!error.is_ok()) return error;
      parts.push_back(
          std::make_unique<FilePartition>(core::PartitionRef{b.stream_name + "/" + *glob, b.stream},
                                          dir, pattern, b.max_record_bytes));
    }
  }
  return std::unique_ptr<Source>(std::make_unique<FilesSource>(
      std::move(parts), std::move(topics), rs.root, std::move(store),
      std::chrono::milliseconds(rs.list_interval_ms), static_cast<uint64_t>(rs.read_chunk_bytes)));
  ;
}

}  // namespace pinstream::connectors::files
