#include "stream/checkpoint_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <utility>
#include <vector>

#include "stream/consistency.h"
#include "stream/core/crc32c.h"
#include "stream/core/durable_file.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;
using connectors::objstore::ObjectInfo;
using connectors::objstore::ObjectStore;
using core::Result;
using core::Status;

namespace {

constexpr const char* kSstPrefix = "sst/";
constexpr const char* kManifestName = "manifest.json";
// Files of one checkpoint uploaded at once.
constexpr size_t kUploadThreads = 4;
// A temporary file this old is a killed process's unfinished upload: no upload takes an hour.
constexpr int64_t kTemporaryAgeMs = 3600 * 1000;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The CRC-32C and size of a file, read in chunks (SSTs may be large).
Result<std::pair<uint32_t, uint64_t>> file_crc(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io("cannot read " + path);
  std::vector<char> buf(1u << 20);
  uint32_t crc = 0;
  uint64_t size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    crc = core::crc32c_extend(crc, buf.data(), got);
    size += got;
  }
  if (in.bad()) return Status::io("cannot read " + path);
  return std::make_pair(crc, size);
}

// "<id>/manifest.json" -> "<id>"; empty for any other key.
std::string manifest_id(const std::string& key) {
  const std::string tail = std::string("/") + kManifestName;
  if (!ends_with(key, tail)) return "";
  std::string id = key.substr(0, key.size() - tail.size());
  return id.find('/') == std::string::npos ? id : "";
}

// Uploads every (key, path), a few at a time (the store's connections are pooled); the
// first failure is returned once all have ended.
Status put_files(ObjectStore& store, const std::vector<std::pair<std::string, std::string>>& todo) {
  std::atomic<size_t> next{0};
  auto worker = [&]() -> Status {
    Status first;
    for (size_t i = next++; i < todo.size(); i = next++) {
      Status st = store.put_file(todo[i].first, todo[i].second);
      if (!st.is_ok() && first.is_ok()) first = st;
    }
    return first;
  };
  std::vector<std::future<Status>> helpers;
  for (size_t t = 1; t < std::min(todo.size(), kUploadThreads); ++t)
    helpers.push_back(std::async(std::launch::async, worker));
  Status first = worker();
  for (auto& h : helpers) {
    Status st = h.get();
    if (first.is_ok() && !st.is_ok()) first = st;
  }
  return first;
}

int64_t steady_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CheckpointStore::CheckpointStore(std::string root, std::unique_ptr<ObjectStore> store,
                                 std::string scratch)
    : root_(std::move(root)), store_(std::move(store)), scratch_(std::move(scratch)) {
  if (!store_) {
    auto local = connectors::objstore::open_store(root_);  // a local path: never fails
    if (local) local_objects_ = std::move(*local);
  }
}

ObjectStore& CheckpointStore::objects() { return store_ ? *store_ : *local_objects_; }

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& root,
                                                               const std::string& scratch) {
  if (connectors::objstore::is_remote_url(root)) {
    PS_ASSIGN_OR_RETURN(auto store, connectors::objstore::open_store(root));
    return over(std::move(store), scratch);
  }
  std::string path = root.rfind("file://", 0) == 0 ? root.substr(7) : root;
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(path, nullptr, scratch));
}

std::unique_ptr<CheckpointStore> CheckpointStore::over(std::unique_ptr<ObjectStore> store,
                                                       const std::string& scratch) {
  std::string root = store->describe();
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(root, std::move(store), scratch));
}

std::string checkpoint_scratch_dir(const std::string& data_dir) {
  return data_dir + "/checkpoint-scratch";
}

Result<std::unique_ptr<CheckpointStore>> open_checkpoint_store(const std::string& root,
                                                               const std::string& data_dir) {
  return CheckpointStore::open(root, checkpoint_scratch_dir(data_dir));
}

std::string CheckpointStore::describe() const { return root_; }

Status CheckpointStore::check() {
  if (!store_) return Status::ok();
  Status st = store_->check();
  if (st.is_ok()) return st;
  return Status(st.code(), "checkpoint store " + root_ + ": " + st.message());
}

Result<std::vector<CheckpointManifest>> CheckpointStore::list() {
  if (!store_) return list_checkpoints(root_);
  PS_ASSIGN_OR_RETURN(auto objects, store_->list(""));
  return manifests_in(objects);
}

Result<std::vector<CheckpointManifest>> CheckpointStore::manifests_in(
    const std::vector<ObjectInfo>& objects) {
  std::vector<CheckpointManifest> out;
  for (const auto& o : objects) {
    const std::string id = manifest_id(o.key);
    if (id.empty()) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = manifests_.find(id); it != manifests_.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    auto text = store_->get(o.key);
    if (!text && text.error().code() == core::StatusCode::kNotFound) continue;  // pruned
    if (!text) return text.error();
    auto m = CheckpointManifest::from_json(*text);
    if (!m || m->id != id) continue;
    std::lock_guard<std::mutex> lock(mu_);
    manifests_[id] = *m;
    out.push_back(std::move(*m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
  return out;
}

Result<CheckpointManifest> CheckpointStore::find(const std::string& id) {
  PS_ASSIGN_OR_RETURN(auto all, list());
  return pick_checkpoint(all, id, root_);
}

bool CheckpointStore::has(const std::string& id) {
  const std::string key = id + "/" + kManifestName;
  if (!store_) return fs::exists(fs::path(root_) / key);
  return store_->size(key).has_value();
}

Result<std::string> CheckpointStore::staging_dir(const std::string& id) {
  const fs::path parent = store_ ? fs::path(scratch_) : fs::path(root_) / id;
  const fs::path dir = store_ ? parent / id : parent / "state";
  std::error_code ec;
  fs::remove_all(store_ ? dir : parent, ec);
  fs::create_directories(parent, ec);
  if (ec) return Status::io("cannot create " + parent.string() + ": " + ec.message());
  return dir.string();
}

Status CheckpointStore::publish(CheckpointManifest m) {
  if (!store_) return write_manifest(root_, m);
  const std::string dir = (fs::path(scratch_) / m.id).string();
  const int64_t t0 = steady_micros();
  // An existing checkpoint is never overwritten (its files would change under its manifest).
  auto manifest = store_->size(m.id + "/" + kManifestName);
  const bool kept = manifest.has_value();
  Status st = kept                                                     ? Status::ok()
              : manifest.error().code() == core::StatusCode::kNotFound ? upload(m, dir)
                                                                       : manifest.error();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (kept || !st.is_ok()) return st;
  UploadStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_.micros = steady_micros() - t0;
    s = last_;
  }
  spdlog::info(
      "Checkpoint uploaded. id={} store={} files={} shared_skipped={} bytes={} "
      "ms={} mb_per_s={:.1f}",
      m.id, root_, s.files, s.shared_skipped, s.bytes, s.micros / 1000,
      static_cast<double>(s.bytes) / static_cast<double>(std::max<int64_t>(1, s.micros)));
  return Status::ok();
}

// A shared SST's key: name, size and CRC-32C, read once per file of this lineage.
Result<std::string> CheckpointStore::sst_key(const std::string& path, const std::string& name,
                                             uint64_t size) {
  struct stat st {};
  const bool known = ::stat(path.c_str(), &st) == 0;
  const auto id = std::make_tuple(name, size, static_cast<uint64_t>(st.st_ino),
                                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                                      static_cast<int64_t>(st.st_mtim.tv_nsec));
  auto cached = known ? sst_keys_.find(id) : sst_keys_.end();
  if (cached != sst_keys_.end()) return cached->second;
  PS_ASSIGN_OR_RETURN(auto crc, file_crc(path));
  if (crc.second != size)
    return Status::io("checkpoint file " + path + " changed while it was read (" +
                      std::to_string(crc.second) + " bytes, " + std::to_string(size) + " listed)");
  const std::string stem = name.substr(0, name.size() - 4);
  std::string key =
      kSstPrefix + stem + "-" + std::to_string(size) + "-" + core::crc32c_hex(crc.first) + ".sst";
  if (known) sst_keys_[id] = key;
  return key;
}

Status CheckpointStore::upload(CheckpointManifest& m, const std::string& dir) {
  std::set<std::string> held;
  {
    PS_ASSIGN_OR_RETURN(auto shared, store_->list(kSstPrefix));
    for (auto& o : shared) held.insert(std::move(o.key));
  }
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) paths.push_back(e.path());
  if (ec || paths.empty()) return Status::io("no RocksDB checkpoint in " + dir);
  std::sort(paths.begin(), paths.end());
  UploadStats s;
  m.files.clear();
  std::vector<std::pair<std::string, std::string>> todo;  // (key, path)
  for (const auto& p : paths) {
    const std::string name = p.filename().string();
    const uint64_t size = fs::file_size(p, ec);
    if (ec) return Status::io("cannot stat " + p.string() + ": " + ec.message());
    std::string key = m.id + "/state/" + name;
    if (ends_with(name, ".sst")) {
      PS_ASSIGN_OR_RETURN(key, sst_key(p.string(), name, size));
      if (held.count(key)) {
        m.files.push_back({name, key, size});
        ++s.shared_skipped;
        continue;
      }
    }
    m.files.push_back({name, key, size});
    todo.emplace_back(key, p.string());
    s.bytes += size;
    ++s.files;
  }
  PS_RETURN_IF_ERROR(put_files(*store_, todo));
  // Last: the checkpoint exists from here on.
  PS_RETURN_IF_ERROR(store_->put(m.id + "/" + kManifestName, m.to_json()));
  std::lock_guard<std::mutex> lock(mu_);
  last_ = s;
  manifests_[m.id] = m;
  return Status::ok();
}

CheckpointStore::UploadStats CheckpointStore::last_upload() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

Status CheckpointStore::prune(int64_t keep) {
  if (!store_) {
    prune_checkpoints(root_, keep);
    return Status::ok();
  }
  // One listing serves both steps: what it shows of dropped checkpoints goes anyway.
  PS_ASSIGN_OR_RETURN(auto objects, store_->list(""));
  PS_ASSIGN_OR_RETURN(auto complete, manifests_in(objects));
  std::set<std::string> kept_ids, referenced;
  std::vector<std::string> dropped_manifests;
  for (size_t i = 0; i < complete.size(); ++i) {
    if (i + static_cast<size_t>(keep) < complete.size()) {
      dropped_manifests.push_back(complete[i].id + "/" + kManifestName);
      continue;
    }
    kept_ids.insert(complete[i].id);
    for (const auto& f : complete[i].files) referenced.insert(f.key);
  }
  // Manifests first: a dropped checkpoint disappears whole before any of its files do.
  PS_RETURN_IF_ERROR(store_->remove_many(dropped_manifests));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& key : dropped_manifests) manifests_.erase(manifest_id(key));
  }
  const std::set<std::string> gone(dropped_manifests.begin(), dropped_manifests.end());
  std::vector<std::string> doomed;
  for (const auto& o : objects) {
    if (gone.count(o.key)) continue;
    if (o.key.rfind(kSstPrefix, 0) == 0) {
      if (!referenced.count(o.key)) doomed.push_back(o.key);
      continue;
    }
    const std::string id = o.key.substr(0, o.key.find('/'));
    if (!is_checkpoint_id(id)) continue;               // a shared namespace, not a checkpoint
    if (!kept_ids.count(id)) doomed.push_back(o.key);  // dropped, or an incomplete upload
  }
  // Temporary files of uploads a killed process never finished (local stores only), once
  // no writer can still be working on them.
  PS_ASSIGN_OR_RETURN(auto temporaries, store_->list_temporaries(""));
  const int64_t cutoff = wall_ms() - kTemporaryAgeMs;
  for (const auto& o : temporaries)
    if (o.modified_ms >= 0 && o.modified_ms < cutoff) doomed.push_back(o.key);
  if (!doomed.empty())
    spdlog::debug("Checkpoint files removed. store={} count={}", root_, doomed.size());
  return store_->remove_many(doomed);
}

Result<std::string> CheckpointStore::materialize(const CheckpointManifest& m,
                                                 const std::string& into) {
  if (!store_) return (fs::path(root_) / m.id / "state").string();
  if (m.files.empty())
    return Status::corruption("checkpoint " + m.id + " in " + root_ + " lists no files");
  std::error_code ec;
  fs::remove_all(into, ec);
  fs::create_directories(into, ec);
  if (ec) return Status::io("cannot create " + into + ": " + ec.message());
  for (const auto& f : m.files) {
    auto data = store_->get(f.key);
    if (!data && data.error().code() == core::StatusCode::kNotFound)
      return Status::corruption("checkpoint " + m.id + " in " + root_ + " is damaged: " + f.key +
                                " is missing");
    if (!data) return data.error();
    bool whole = data->size() == f.size;
    if (whole && ends_with(f.key, ".sst"))
      whole = ends_with(f.key, "-" + core::crc32c_hex(core::crc32c(*data)) + ".sst");
    if (!whole)
      return Status::corruption("checkpoint " + m.id + " in " + root_ + " is damaged: " + f.key +
                                " is not the file it lists (size or checksum)");
    PS_RETURN_IF_ERROR(core::write_file_atomically(fs::path(into) / f.name, *data));
  }
  return into;
}

std::vector<std::string> CheckpointStore::problems(const CheckpointManifest& m) {
  std::vector<std::string> out;
  if (!store_) {
    auto meta = read_epoch_meta((fs::path(root_) / m.id / "state").string());
    Status st =
        meta ? check_restored_checkpoint(m, *meta ? &**meta : nullptr)
             : Status::corruption("checkpoint " + m.id + " is damaged: " + meta.error().message());
    if (!st.is_ok()) out.push_back(st.message());
    if (!fs::exists(fs::path(root_) / m.id / kManifestName)) out.clear();  // pruned meanwhile
    return out;
  }
  std::map<std::string, uint64_t> sizes;
  for (const std::string& prefix : {std::string(kSstPrefix), m.id + "/"}) {
    auto objects = store_->list(prefix);
    if (!objects) return {"checkpoint " + m.id + ": " + objects.error().message()};
    for (const auto& o : *objects) sizes[o.key] = o.size;
  }
  if (!sizes.count(m.id + "/" + kManifestName)) return {};  // pruned meanwhile
  for (const auto& f : m.files) {
    auto it = sizes.find(f.key);
    if (it == sizes.end())
      out.push_back("checkpoint " + m.id + " is damaged: " + f.key + " is missing in " + root_);
    else if (it->second != f.size)
      out.push_back("checkpoint " + m.id + " is damaged: " + f.key + " holds " +
                    std::to_string(it->second) + " bytes, its manifest says " +
                    std::to_string(f.size));
  }
  return out;
}

}  // namespace pinstream::runtime
