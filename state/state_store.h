// The only state store: RocksDB behind a small interface (rocksdb headers stay in .cc
// files). Every state kind lives under its own key prefix (see README.md). Writes happen
// only in atomic batches, once per epoch; reads come from the live DB or a snapshot.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/status.h"

namespace pinstream::state {

class StateStore {
 public:
  struct Options {
    bool read_only = false;      // Default: false. Read-only opens do not take RocksDB's lock.
    size_t block_cache_mb = 64;  // Default: 64
    // Default: 8. RocksDB's own default (64 MiB, two of them) lets the memtable grow with
    // the input for a long run before its first flush (bench/README.md, "Memtable size").
    size_t memtable_mb = 8;
  };

  class WriteBatch {
   public:
    WriteBatch();
    ~WriteBatch();
    WriteBatch(WriteBatch&&) noexcept;
    WriteBatch& operator=(WriteBatch&&) noexcept;
    void put(std::string_view key, std::string_view value);
    void del(std::string_view key);
    void delete_range(std::string_view begin, std::string_view end);  // [begin, end)
    // Adds `delta` to the counter at `key` (absent = 0) without reading it: a RocksDB merge.
    // Counters are stored as 8-byte order-preserving int64 (state/codec.h put_i64).
    void add_i64(std::string_view key, int64_t delta);
    // Merges a packed histogram (codec.h put_histogram) into the one at `key`.
    void merge_histogram(std::string_view key, std::string_view packed);
    size_t count() const;
    size_t bytes() const;  // the serialized size (what the write-ahead log gets)

   private:
    friend class StateStore;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  // Consistent reads. Thread-safe.
  class Reader {
   public:
    virtual ~Reader() = default;
    // nullopt when absent; IoError/Corruption on failure.
    virtual core::Result<std::optional<std::string>> get(std::string_view key) const = 0;
    // Calls fn(key, value) in key order for every key starting with `prefix` until fn
    // returns false.
    virtual core::Status scan(
        std::string_view prefix,
        const std::function<bool(std::string_view, std::string_view)>& fn) const = 0;
  };

  // Opens (creating when writable) the store in `dir`. IoError when RocksDB cannot open it
  // (e.g. another process holds it).
  static core::Result<std::unique_ptr<StateStore>> open(const std::string& dir, Options opts);
  static core::Result<std::unique_ptr<StateStore>> open(const std::string& dir) {
    return open(dir, Options());
  }
  ~StateStore();

  // One atomic write; `sync` fsyncs the WAL before returning.
  core::Status write(WriteBatch& batch, bool sync = true);
  const Reader& live() const;
  std::shared_ptr<const Reader> snapshot() const;
  // A RocksDB checkpoint (hard links) in `dir`, which must not exist yet.
  core::Status checkpoint(const std::string& dir) const;
  // Replaces `dir` (the store must be closed) with a copy of `checkpoint_dir`.
  static core::Status restore_from_checkpoint(const std::string& checkpoint_dir,
                                              const std::string& dir);
  // Approximate on-disk size in bytes (for metrics).
  uint64_t approximate_size() const;

 private:
  StateStore() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinstream::state
