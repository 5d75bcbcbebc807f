#include "connectors/objstore/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "stream/core/durable_file.h"

namespace pinstream::connectors::objstore {
namespace {

namespace fs = std::filesystem;
using core::Result;
using core::Status;

// A file's mtime in ms since the epoch (-1 when it could not be read).
int64_t modified_ms(fs::file_time_type t) {
  if (t == fs::file_time_type::min()) return -1;
  const auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

Status errno_status(const std::string& what, const std::string& path) {
  int e = errno;
  std::string m = what + " " + path + ": " + std::strerror(e);
  return e == ENOENT ? Status::not_found(m) : Status::io(m);
}

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::string describe() const override { return root_; }

  Result<std::string> get(const std::string& key, std::optional<ByteRange> range) override {
    const std::string path = full(key);
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return errno_status("cannot open", path);
    struct stat st {};
    ::fstat(fd, &st);
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = range ? std::min(range->offset, file_size) : 0;
    uint64_t want = file_size - offset;
    if (range && range->length) want = std::min(want, *range->length);
    std::string out(want, '\0');
    size_t done = 0;
    while (done < want) {
      ssize_t n = ::pread(fd, out.data() + done, want - done, static_cast<off_t>(offset + done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (done != want) return Status::io("short read of " + path);
    return out;
  }

  Result<uint64_t> size(const std::string& key) override {
    struct stat st {};
    if (::stat(full(key).c_str(), &st) != 0) return errno_status("cannot stat", full(key));
    return static_cast<uint64_t>(st.st_size);
  }

  Status put(const std::string& key, std::string_view data) override {
    return core::write_file_atomically(full(key), data);
  }

  Status put_if_absent(const std::string& key, std::string_view data) override {
    return core::create_file_exclusively(full(key), data);
  }

  Status remove(const std::string& key) override {
    if (::unlink(full(key).c_str()) != 0 && errno != ENOENT) {
      return errno_status("cannot delete", full(key));
    }
    return Status::ok();
  }

  Status remove_many(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) PS_RETURN_IF_ERROR(remove(k));
    return Status::ok();
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix,
                                       const std::string& start_after) override {
    return walk(prefix, start_after, false);
  }

  Result<std::vector<ObjectInfo>> list_temporaries(const std::string& prefix) override {
    return walk(prefix, "", true);
  }

  Status check() override {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) return Status::invalid("cannot create the directory " + root_ + ": " + ec.message());
    return Status::ok();
  }

 private:
  std::string full(const std::string& key) const { return root_ + "/" + key; }

  // The files under `prefix` in key order: the objects, or only the temporary files.
  Result<std::vector<ObjectInfo>> walk(const std::string& prefix, const std::string& start_after,
                                       bool temporaries) const {
    // Walk only the deepest directory the prefix names.
    const auto slash = prefix.rfind('/');
    const fs::path start =
        slash == std::string::npos ? fs::path(root_) : fs::path(full(prefix.substr(0, slash)));
    std::vector<ObjectInfo> out;
    std::error_code ec;
    if (!fs::is_directory(start, ec)) return out;
    fs::recursive_directory_iterator it(start, ec), end;
    if (ec) return Status::io("cannot list " + start.string() + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::io("cannot list " + start.string() + ": " + ec.message());
      if (!it->is_regular_file(ec)) continue;
      const std::string name = it->path().filename().string();
      if (core::is_temp_file_name(name) != temporaries) continue;
      std::string key = it->path().string().substr(root_.size() + 1);
      if (key.rfind(prefix, 0) != 0 || (!start_after.empty() && key <= start_after)) continue;
      const uint64_t size = static_cast<uint64_t>(it->file_size(ec));
      out.push_back({std::move(key), size, modified_ms(it->last_write_time(ec))});
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<ObjectStore> make_local_store(const std::string& root) {
  return std::make_unique<LocalStore>(root);
}

}  // namespace pinstream::connectors::objstore
