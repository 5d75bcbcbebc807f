// Aggregates declared in YAML over the joined + derived rows (SPEC section 4): group-by
// columns and one measure (count, sum, min, max, argmax keeping other columns, exact
// discrete median), optionally over event-time windows (tumbling or sliding). Rows whose
// group key is null are left out. Group states live in memory (loaded at build) and changed
// ones are written once per epoch by flush() under "a/<name>\0[<window start>]<group key>";
// closed windows are marked under "w/<name>\0<start>" and leave memory after the flush
// that records them (they stay in RocksDB for views). Views read committed state from a
// Reader. Not thread-safe (Reader-based reads are).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "state/state_store.h"
#include "state/string_index.h"
#include "stream/core/config.h"
#include "stream/core/schema.h"

namespace pinstream::state {

enum class Measure { kCount, kSum, kMin, kMax, kArgmax, kMedian };

struct AggregateSpec {
  std::string name;
  std::vector<size_t> group_idx;
  core::Schema group_schema;
  Measure measure = Measure::kCount;
  size_t column_idx = 0;         // measured column (not for count)
  std::vector<size_t> keep_idx;  // argmax: kept columns
  // argmax: a row whose value or a kept column is null is no candidate (SPEC section 4:
  // rows whose reported value is null are left out). Default: true (`skip_nulls: false`
  // makes null the lowest value and keeps null columns).
  bool skip_nulls = true;
  core::Schema output;  // [window_start, window_end,] groups..., measures...
  bool windowed = false;
  int64_t size_micros = 0, slide_micros = 0;
  std::string table;  // where closed windows go (may be empty)
};

struct GroupState {
  int64_t count = 0;
  int64_t non_null = 0;
  core::Value acc;  // sum, min, max, argmax value
  core::Row kept;   // argmax: the kept columns of the winner
  // median: values added since the last flush (encoded value -> count). The committed
  // histogram is in RocksDB: flush() merges these counts, packed (codec.h put_histogram),
  // into the group's one histogram under "h/<name>\0<group>", so memory and each epoch's
  // writes grow with the epoch's distinct values only.
  struct ValueHash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
  };
  std::unordered_map<std::string, int64_t, ValueHash, std::equal_to<>> histogram;
  // median of a long column: its values as they come, folded into `histogram` (sorted,
  // counted, each distinct value encoded once) at flush, at a read, or past kFoldAt values.
  // An append is a few ns; a hash-map update per value misses the cache and was the
  // largest share of aggregate updates (bench/README.md).
  std::vector<int64_t> pending_longs;
  static constexpr size_t kFoldAt = 65536;
  void fold_pending(std::string& buf);
  bool dirty = false;  // changed since the last flush (not stored)
};

// One task's share of a group, for merging the tasks' partials (task_aggregates.h): its
// counts, accumulator and kept columns, and a median's whole histogram (committed and
// pending; GroupState::histogram and pending_longs are unused here).
struct GroupPartial {
  GroupState g;
  std::map<std::string, int64_t> histogram;  // encoded value -> count
};
// Folds `from` into `into`: the result is what one instance fed both shares' rows holds
// (count and non-null add, sum adds, min/max, argmax the better winner as update_group
// ranks them, histograms add). A double sum may differ in its last bits (addition order).
void merge_group(const AggregateSpec& spec, GroupPartial& into, const GroupPartial& from);

class Aggregates {
 public:
  // `config` is the `aggregates:` map (name -> {group_by, measure, window, table}); errors
  // are InvalidArgument naming file:line:col and the key. `event_time_column` names the
  // input column windows are computed on ("" = none). IoError/Corruption when the committed
  // state cannot be read back.
  // `key_prefix`: the task's (task_prefix.h), before each of its keys; "" for task 0.
  static core::Result<std::unique_ptr<Aggregates>> build(StateStore& store,
                                                         const core::ConfigNode& config,
                                                         const core::Schema& input,
                                                         const std::string& event_time_column,
                                                         const std::string& key_prefix = "");
  // Folds one input row (input schema order) into every aggregate. Late rows skip the
  // windowed aggregates only. Never fails today (Status kept for future spill-to-disk).
  core::Status update(const core::Row& row, bool late);
  // Whether a post that belongs to [start, end) still waits for its other parts (the
  // join's holds_between); empty: nothing is held.
  using HeldQuery = std::function<bool(int64_t start, int64_t end)>;
  // Windows ending at or before `watermark` for which `held` is false, or every window
  // when `final`, become rows of their aggregate's table (rows in AggregateSpec::output
  // order); each window is emitted once and later rows for it are counted in
  // skipped_closed() and otherwise ignored.
  core::Status close_windows(int64_t watermark_micros, bool final, const HeldQuery& held,
                             std::map<std::string, std::vector<core::Row>>& table_rows);
  // The same windows as close_windows() closes, each group as its partial merged into
  // `out[i]` (aggregate i in specs() order, by key suffix) instead of a row: the tasks of a
  // process (task_aggregates.h) each close theirs into one map, then make the rows.
  // `closed[i]` gets the starts of aggregate i's windows that closed here.
  core::Status close_partials(int64_t watermark_micros, bool final, const HeldQuery& held,
                              std::vector<std::map<std::string, GroupPartial>>& out,
                              std::vector<std::vector<int64_t>>& closed);
  // Windows another task closed: closed here too, so later rows for them are skipped alike.
  void add_closed(const Aggregates& other);
  void add_closed(size_t aggregate, int64_t start) {
    aggs_[aggregate].closed_windows.insert(start);
  }
  // The earliest start of aggregate `aggregate`'s windows still open (holding groups, not
  // closed); nullopt when none is.
  std::optional<int64_t> earliest_open(size_t aggregate) const {
    const auto& open = aggs_[aggregate].open_windows;
    return open.empty() ? std::nullopt : std::optional<int64_t>(*open.begin());
  }
  // Rows that arrived for a window already emitted (only after a final close), since build.
  int64_t skipped_closed() const { return skipped_closed_; }
  // Table name -> schema of the rows close_windows() produces for it.
  std::map<std::string, core::Schema> window_tables() const;
  // Writes every changed group (once per group) and newly closed windows into `batch`.
  void flush(StateStore::WriteBatch& batch);
  // Groups held in memory (for metrics and tests).
  size_t groups_in_memory() const;

  const AggregateSpec* find(const std::string& name) const;
  std::vector<const AggregateSpec*> specs() const;
  // Every group of aggregate `spec` as output rows, from committed state, in key order
  // (windows first by start). Corruption when a stored group cannot be decoded.
  core::Status read_rows(const AggregateSpec& spec, const StateStore::Reader& reader,
                         std::vector<core::Row>& rows) const;
  // Every group of `spec` stored under `key_prefix` (a task's) merged into `out` by key
  // suffix (merge_group). Corruption when a stored group cannot be decoded.
  static core::Status read_partials(const AggregateSpec& spec, const StateStore::Reader& reader,
                                    const std::string& key_prefix,
                                    std::map<std::string, GroupPartial>& out);
  // A group's output row (AggregateSpec::output order); `median` for a median measure.
  static core::Status to_row(const AggregateSpec& spec, std::string_view suffix,
                             const GroupState& g, const core::Value& median, core::Row& out);

 private:
  using GroupMap = std::map<std::string, GroupState, std::less<>>;  // key suffix -> state
  struct SuffixOf {
    std::string_view operator()(GroupMap::iterator it) const { return it->first; }
  };
  struct Agg {
    AggregateSpec spec;
    GroupMap groups;  // ordered: windows close by key range, views read in key order
    // The same groups by hash: one lookup per record instead of a tree walk of string compares.
    StringIndex<GroupMap::iterator, SuffixOf> index;
    std::vector<GroupMap::iterator> dirty;
    std::string value_buf;  // median: the encoded value being counted
    std::set<int64_t> open_windows, closed_windows, newly_closed;
  };
  Aggregates() = default;
  static void update_group(Agg& a, const std::string& suffix, const core::Row& row);
  core::Status load(Agg& agg, const StateStore::Reader& reader) const;
  // Moves the windows of `a` that close (see close_windows) from open to closed, in order.
  static std::vector<int64_t> take_closing(Agg& a, int64_t watermark, bool final,
                                           const HeldQuery& held);
  // A group's whole histogram: committed in `reader` under `key_prefix` plus pending in `g`.
  static core::Status group_histogram(const AggregateSpec& spec, const StateStore::Reader& reader,
                                      const std::string& key_prefix, std::string_view suffix,
                                      const GroupState& g, std::map<std::string, int64_t>& h);

  StateStore* store_ = nullptr;
  std::string prefix_;  // the task's key prefix
  std::vector<Agg> aggs_;
  int event_time_idx_ = -1;
  std::string key_buf_, suffix_buf_;
  int64_t skipped_closed_ = 0;
};

// State (de)serialization of one group (without its histogram).
std::string encode_group(const GroupState& g);
bool decode_group(std::string_view in, GroupState& g);
// Key prefixes of an aggregate's groups ("a/<name>\0") and median histograms ("h/<name>\0").
std::string agg_prefix(const std::string& name);
std::string hist_prefix(const std::string& name);
// The smallest value v with count(<= v) * 2 >= non_null, from (encoded value, count) in
// value order; null when there are no values.
core::Value discrete_median(const std::map<std::string, int64_t>& histogram, int64_t non_null);

}  // namespace pinstream::state
