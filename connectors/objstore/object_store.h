// One interface over where pinstream keeps files: a local directory or an S3 bucket prefix
// (s3://bucket/prefix). Keys are relative to the store's root, '/'-separated, never
// starting with '/'. Whole-object writes are atomic (readers see the old object, the new
// one, or none, never a part), and put_if_absent is the primitive Delta commits need.
// Implementations are thread-safe: one store may be shared by every thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/status.h"

namespace pinstream::connectors::objstore {

struct ObjectInfo {
  std::string key;  // relative to the store root
  uint64_t size = 0;
  // Last modification, ms since the epoch (local: mtime; S3: LastModified); -1: unknown.
  int64_t modified_ms = -1;
};

struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;  // none: to the end
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // "s3://bucket/prefix" or the local root path, for messages.
  virtual std::string describe() const = 0;

  // The object's bytes (or the asked range; a range past the end gives what exists).
  // NotFound when there is no such key.
  virtual core::Result<std::string> get(const std::string& key,
                                        std::optional<ByteRange> range = std::nullopt) = 0;
  // Size in bytes; NotFound when absent.
  virtual core::Result<uint64_t> size(const std::string& key) = 0;
  // Creates or replaces the object atomically.
  virtual core::Status put(const std::string& key, std::string_view data) = 0;
  // Creates or replaces the object with the bytes of the local file at `path`, which must
  // not change meanwhile (IoError if it does; no object is then left under `key`). The S3
  // store streams it (never whole in memory); the default reads it and calls put().
  virtual core::Status put_file(const std::string& key, const std::string& path);
  // Creates the object only if no object has that key: AlreadyExists (nothing written) when
  // one does. If an earlier attempt of this same call landed but its answer was lost, the
  // existing object equal to `data` counts as ours and the call returns OK.
  virtual core::Status put_if_absent(const std::string& key, std::string_view data) = 0;
  // Deletes; OK when the key is already absent.
  virtual core::Status remove(const std::string& key) = 0;
  virtual core::Status remove_many(const std::vector<std::string>& keys) = 0;
  // Every object whose key starts with `prefix` (a plain string prefix, not a directory),
  // and is greater than `start_after` when given, in key (byte) order, with sizes and
  // modification times. Paging is internal.
  virtual core::Result<std::vector<ObjectInfo>> list(const std::string& prefix,
                                                     const std::string& start_after = "") = 0;
  // Leftovers of local writes that never finished (a killed process's temporary files,
  // which list() never shows) under `prefix`, with sizes and modification times; remove()
  // deletes them. Empty for S3, where an object appears whole or not at all.
  virtual core::Result<std::vector<ObjectInfo>> list_temporaries(const std::string& prefix) {
    (void)prefix;
    return std::vector<ObjectInfo>{};
  }
  // Whether the store is usable: the bucket exists and the credentials are accepted (S3),
  // the root can be created (local). Meant for startup, to fail early with a clear message.
  virtual core::Status check() = 0;
};

// Common settings of open_store; S3 defaults come from the environment (s3_store.h).
struct StoreOptions {
  // Objects at least this large are uploaded in parts (S3). Default: 64 MiB.
  uint64_t multipart_threshold_bytes = 64ull << 20;
  // Part size of multipart uploads; S3 wants at least 5 MiB. Default: 16 MiB.
  uint64_t part_size_bytes = 16ull << 20;
  // Keys asked per ListObjectsV2 page (S3 caps at 1000). Default: 1000.
  int list_page_keys = 1000;
};

// "s3://bucket[/prefix]" opens an S3 store; anything else is a local directory path
// ("file://" accepted). InvalidArgument for a malformed URL. Nothing is contacted here:
// credentials are resolved at the first request; call check() to fail early.
core::Result<std::unique_ptr<ObjectStore>> open_store(const std::string& url,
                                                      const StoreOptions& options = {});

// Whether `url` names an object store that is not the local disk.
bool is_remote_url(const std::string& url);

}  // namespace pinstream::connectors::objstore
