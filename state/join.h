// Keyed join of N streams (SPEC section 4): each stream's clean part waits, keyed by the
// join key, until all N parts have arrived; then they are joined into one row and deleted.
// Waiting parts are kept in memory (loaded from RocksDB prefix "j/<key i64>" at build) and
// their changes written once per epoch by flush(); parts that meet their partners within
// one epoch never touch RocksDB. Parts that waited longer than the expiry leave the join
// and are reported to the caller (which counts and records them).
// An entry unchanged since a flush at least kColdFlushes flushes ago goes cold: its rows
// are dropped from memory (its key, arrival, flags and held time stay) and read back from
// RocksDB when a part for it arrives. Parts whose partner never comes (a malformed record)
// wait for the whole expiry, so without this the memory of a long run would grow with its
// input. The flush that wrote the entry is by then committed: the engine seals (and
// flushes) an epoch only after the previous epoch's commit ended.
// A part may hold an event time (a post's not-late geo time): while its entry waits, the
// time is in held(), so that windows containing it stay open until the post completes or
// expires. Held times are stored with the parts, so they survive a restart exactly.
// Not thread-safe; one Join per state store.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "state/int_map.h"
#include "state/state_store.h"
#include "stream/core/schema.h"

namespace pinstream::state {

// What the caller says about a part, kept with it while it waits and handed back with the
// joined row: a bit set. Stored as a string value ("L" for kLate, "" for none), the layout
// of entries written before this type existed.
enum class PartFlags : uint8_t {
  kNone = 0,
  kLate = 1 << 0,  // an event-time record past its partition's watermark
};
constexpr PartFlags operator|(PartFlags a, PartFlags b) {
  return static_cast<PartFlags>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
constexpr bool has(PartFlags set, PartFlags flag) {
  return (static_cast<uint8_t>(set) & static_cast<uint8_t>(flag)) != 0;
}

class Join {
 public:
  // The output schema is the key once, then each stream's non-key columns in stream order;
  // a column name appearing in two streams is InvalidArgument.
  // `key_prefix`: the task's (task_prefix.h), before each of its keys; "" for task 0.
  static core::Result<std::unique_ptr<Join>> build(StateStore& store,
                                                   std::vector<std::string> stream_names,
                                                   std::vector<core::Schema> stream_schemas,
                                                   std::string key, int64_t expire_after_micros,
                                                   std::string key_prefix = "");
  const core::Schema& output_schema() const { return out_schema_; }
  // Per stream, the part columns that feed the output columns marked in `out_needed`
  // (output_schema() order), plus the key column.
  std::vector<std::vector<size_t>> part_columns(const std::vector<bool>& out_needed) const;
  // Also InvalidArgument when the key column is missing or not a long, Corruption when the
  // stored waiting parts cannot be decoded, IoError when they cannot be read.
  // Adds a part (with its `flags`) for `key`; when all parts are present fills `out`
  // (output_schema order) and `flags_out` (the union of the parts' flags), forgets the
  // parts and returns true. A second part from the same stream replaces the first.
  // `part` is taken by value: a caller done with its row may move it in. `hold`: an event
  // time this part keeps in held() while its entry waits (replaced with the part).
  core::Result<bool> add(uint32_t stream, int64_t key, core::Row part, PartFlags flags,
                         int64_t now_micros, core::Row& out, PartFlags& flags_out,
                         std::optional<int64_t> hold = std::nullopt);
  // The same with a copy of `row`'s `columns` (all when empty; the others null) as the part:
  // the copy goes into a row the join recycles (parts completed or replaced give their rows
  // and string buffers back, `out` swaps its cells with the parts'), so a warmed-up join
  // does not allocate per part. For a caller whose row belongs to another thread.
  core::Result<bool> add_copy(uint32_t stream, int64_t key, const core::Row& row,
                              const std::vector<size_t>& columns, PartFlags flags,
                              int64_t now_micros, core::Row& out, PartFlags& flags_out,
                              std::optional<int64_t> hold = std::nullopt);
  // A waiting entry that expired: its key, which streams' parts had arrived, when the
  // first did, and the event time it held (if any).
  struct Expired {
    int64_t key = 0;
    std::vector<bool> present;  // per stream
    int64_t first_arrival = 0;
    std::optional<int64_t> hold;
  };
  // Removes waiting keys whose first part arrived before now - expiry; returns how many and,
  // when `out` is given, appends each (in key order).
  core::Result<size_t> expire(int64_t now_micros, std::vector<Expired>* out = nullptr);
  // Whether a waiting entry holds an event time in [start, end). The first question after
  // the holds changed scans the waiting entries into a sorted vector, the others of the same
  // seal binary-search it: cheaper than an ordered index kept up to date for every part that
  // waits, and not a scan per window, which parts of malformed posts waiting for days make
  // costly when every seal asks about several windows (bench/README.md, "Held event
  // times"). Not thread-safe: the engine thread's only.
  bool holds_between(int64_t start, int64_t end) const;
  // The earliest event time a waiting entry holds (nullopt: none), from the same sorted
  // snapshot as holds_between. Not thread-safe.
  std::optional<int64_t> earliest_hold() const;
  // Event times held by waiting entries: time -> number of entries holding it (a scan).
  std::map<int64_t, int64_t> held() const;
  // Writes this epoch's changes of waiting parts into `batch`.
  void flush(StateStore::WriteBatch& batch);
  size_t waiting() const { return index_.size(); }
  // Waiting entries whose rows are only in RocksDB, and how many were read back so far.
  size_t cold() const { return cold_; }
  uint64_t reloads() const { return reloads_; }
  // Flushes after the one that wrote an unchanged entry before it goes cold.
  static constexpr uint64_t kColdFlushes = 2;

 private:
  // A waiting entry lives in a slot of `slots_`, found by key through `index_`; freed slots
  // are reused (their vectors keep their capacity).
  struct Waiting {
    std::vector<std::optional<core::Row>> parts;
    std::vector<PartFlags> flags;
    int64_t key = 0;
    int64_t first_arrival = 0;
    std::optional<int64_t> hold;
    uint32_t hold_stream = 0;
    bool live = false;
    bool persisted = false;   // a version of this entry is in RocksDB
    bool dirty = false;       // to (re)write at the next flush
    bool cold = false;        // parts engaged but empty: their rows are in RocksDB only
    uint64_t written_at = 0;  // the flush (flushes_) that last wrote it
  };
  void sort_holds() const;  // holds_sorted_ made current
  Waiting& emplace(int64_t key, int64_t now_micros, uint32_t& slot);
  core::Result<bool> place(uint32_t stream, int64_t key, core::Row&& part, PartFlags flags,
                           int64_t now_micros, core::Row& out, PartFlags& flags_out,
                           std::optional<int64_t> hold);
  void recycle(uint32_t stream, core::Row&& row);
  core::Status warm(Waiting& w);  // a cold entry's rows read back from RocksDB
  void cool();                    // entries unchanged since kColdFlushes flushes go cold
  void release(Waiting& w);
  void forget(uint32_t slot);
  Join() = default;

  std::string join_key(int64_t key) const;

  StateStore* store_ = nullptr;
  std::string prefix_;  // the task's key prefix
  size_t n_ = 0;
  std::vector<size_t> key_index_;          // per stream: index of the key column
  std::vector<size_t> widths_;             // per stream: columns of a part
  std::vector<std::vector<size_t>> take_;  // per stream: non-key columns copied out
  core::Schema out_schema_;
  int64_t expire_after_ = 0;
  IntMap index_;                // key -> slot
  std::vector<Waiting> slots_;  // live and free waiting entries
  std::vector<uint32_t> free_slots_;
  std::vector<std::vector<core::Row>> spare_;  // per stream: part rows to reuse
  mutable std::vector<int64_t> holds_sorted_;  // held times, when !holds_stale_
  mutable bool holds_stale_ = true;
  std::vector<uint32_t> dirty_;          // slots whose entries changed (dirty flag set)
  std::unordered_set<int64_t> deleted_;  // persisted entries to delete
  // Per stream: the state key and value recording its column names (one per line), so that
  // parts written before a column was added (a restart, or a replay from an older
  // checkpoint) are rebuilt by name. Written with the first flush.
  std::vector<std::pair<std::string, std::string>> columns_;
  bool columns_written_ = false;
  uint64_t flushes_ = 0;  // flush() calls so far
  size_t cold_ = 0;       // live cold entries
  uint64_t reloads_ = 0;  // cold entries read back
};

}  // namespace pinstream::state
