// Dedup: the first clean record per (stream, key) wins (SPEC section 3). Each flush writes
// the epoch's claims of a stream as one packed chunk "D/<stream u64><chunk u64>" (sorted
// i64 keys), and each stream's committed claims are loaded once (lazily, on its first
// claim) into a compact in-memory KeySet (bitmaps for dense keys), so there is no RocksDB
// read or write per record.
// Past `max_cached_keys`, claims are written one per key "d/<stream u64><key i64>" instead
// and misses fall back to a RocksDB read (cheap: bloom filters). Claims of the current
// epoch stay pending until flush().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "state/key_set.h"
#include "state/state_store.h"

namespace pinstream::state {

class Dedup {
 public:
  struct Options {
    // Committed claims kept in memory over all streams; past it, misses read RocksDB.
    size_t max_cached_keys =
        16u << 20;  // Default: 16M keys (<= 256 MB for sparse keys, 2 MB dense)
    // Where the claims cached are counted: the tasks of one process (task_prefix.h) share
    // one count, so max_cached_keys bounds them all. Null: this Dedup's own. Dedups sharing
    // it are used by one thread.
    size_t* shared_count = nullptr;
  };
  explicit Dedup(StateStore& store) : Dedup(store, Options()) {}
  // `key_prefix`: the task's (task_prefix.h), before each of its keys; "" for task 0.
  Dedup(StateStore& store, Options opts, std::string key_prefix = "")
      : store_(store),
        opts_(opts),
        prefix_(std::move(key_prefix)),
        cached_(opts.shared_count ? *opts.shared_count : own_cached_) {}
  Dedup(const Dedup&) = delete;
  Dedup& operator=(const Dedup&) = delete;
  // True when `key` was never claimed for `stream` (and claims it, pending until flush()).
  // False for a duplicate. IoError/Corruption when the committed claims cannot be read.
  core::Result<bool> claim(uint32_t stream, int64_t key);
  // Writes this epoch's claims into `batch`; they count as committed from now on.
  void flush(StateStore::WriteBatch& batch);
  // True when some committed claims are only in RocksDB (past max_cached_keys): claims
  // flushed into a batch are then not visible to claim() until the batch is written.
  bool spilled() const {
    for (const auto& s : streams_)
      if (s.loaded && !s.complete) return true;
    return false;
  }
  // Forgets this epoch's claims (the epoch was abandoned).
  void discard_pending();
  // Forgets everything cached: the committed claims are read again from the store on the
  // next claim (its keys were replaced or removed: a task handed over or imported).
  void forget();
  // Committed claims held in memory (for metrics and tests; with a shared count, all of
  // those sharing it).
  size_t cached_keys() const { return cached_; }

 private:
  struct PerStream {
    bool loaded = false;    // committed claims read from RocksDB
    bool complete = false;  // `committed` holds every committed claim
    uint64_t next_chunk = 0;
    KeySet committed, pending;
    std::vector<int64_t> pending_list;
  };
  core::Status load(uint32_t stream, PerStream& s);

  void stream_prefix(std::string& out, uint32_t stream) const;
  void chunk_prefix(std::string& out, uint32_t stream) const;

  StateStore& store_;
  Options opts_;
  std::string prefix_;
  std::vector<PerStream> streams_;
  size_t own_cached_ = 0;
  size_t& cached_;
  std::string key_buf_;
};

}  // namespace pinstream::state
