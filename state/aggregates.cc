#include "state/aggregates.h"

#include <algorithm>

#include "state/codec.h"

namespace pinstream::state {
using core::ConfigNode;
using core::Status;
using core::Type;
using core::Value;

namespace {

std::string closed_key(const std::string& prefix, const std::string& name, int64_t start) {
  std::string k = prefix + "w/" + name + std::string(1, '\0');
  put_i64(k, start);
  return k;
}

}  // namespace

// Reads the committed groups of `agg`, skipping windows already closed (their rows are
// final and only views read them, from RocksDB).
Status Aggregates::load(Agg& agg, const StateStore::Reader& reader) const {
  const std::string& name = agg.spec.name;
  Status bad;
  std::string cprefix = prefix_ + "w/" + name + std::string(1, '\0');
  PS_RETURN_IF_ERROR(reader.scan(cprefix, [&](std::string_view k, std::string_view) {
    k.remove_prefix(cprefix.size());
    int64_t start = 0;
    if (!get_i64(k, start)) {
      bad = Status::corruption("malformed closed-window key of aggregate " + name);
      return false;
    }
    agg.closed_windows.insert(start);
    return true;
  }));
  PS_RETURN_IF_ERROR(bad);
  std::string prefix = prefix_ + agg_prefix(name);
  PS_RETURN_IF_ERROR(reader.scan(prefix, [&](std::string_view k, std::string_view v) {
    std::string_view suffix = k.substr(prefix.size());
    if (agg.spec.windowed) {
      std::string_view s = suffix;
      int64_t start = 0;
      if (!get_i64(s, start)) {
        bad = Status::corruption("malformed window key of aggregate " + name);
        return false;
      }
      if (agg.closed_windows.count(start)) return true;
      agg.open_windows.insert(start);
    }
    GroupState g;
    if (!decode_group(v, g)) {
      bad = Status::corruption("unreadable state of aggregate " + name);
      return false;
    }
    auto it = agg.groups.emplace(std::string(suffix), std::move(g)).first;
    agg.index.insert(it);
    return true;
  }));
  return bad;
}

void GroupState::fold_pending(std::string& buf) {
  if (pending_longs.empty()) return;
  std::sort(pending_longs.begin(), pending_longs.end());
  for (size_t i = 0; i < pending_longs.size();) {
    size_t j = i + 1;
    while (j < pending_longs.size() && pending_longs[j] == pending_longs[i]) ++j;
    buf.clear();
    encode_value(buf, Value::of_long(pending_longs[i]));
    histogram[buf] += static_cast<int64_t>(j - i);
    i = j;
  }
  pending_longs.clear();
}

void Aggregates::update_group(Agg& a, const std::string& suffix, const core::Row& row) {
  GroupMap::iterator it;
  if (GroupMap::iterator* found = a.index.find(suffix)) {
    it = *found;
  } else {
    it = a.groups.emplace(suffix, GroupState{}).first;
    a.index.insert(it);
  }
  GroupState& g = it->second;
  if (!g.dirty) {
    g.dirty = true;
    a.dirty.push_back(it);
  }
  g.count++;
  const AggregateSpec& s = a.spec;
  if (s.measure == Measure::kCount) return;
  const Value& v = row[s.column_idx];
  if (s.measure == Measure::kArgmax) {
    // Largest value wins (null is lowest, or no candidate with skip_nulls); ties go to the
    // smallest kept columns.
    bool better;
    if (s.skip_nulls) {
      if (v.is_null()) return;
      for (size_t k : s.keep_idx)
        if (row[k].is_null()) return;
      // non_null counts candidates; states written before skip_nulls have a non-null acc.
      better = g.non_null++ == 0 && g.acc.is_null();
    } else {
      better = g.count == 1;
    }
    if (!better) {
      int c = v.is_null() ? (g.acc.is_null() ? 0 : -1) : (g.acc.is_null() ? 1 : v.compare(g.acc));
      better = c > 0;
      if (c == 0) {
        for (size_t k = 0; k < s.keep_idx.size(); ++k) {
          int kc = row[s.keep_idx[k]].compare(g.kept[k]);
          if (kc != 0) {
            better = kc < 0;
            break;
          }
        }
      }
    }
    if (better) {
      g.acc = v;
      g.kept.resize(s.keep_idx.size());
      for (size_t k = 0; k < s.keep_idx.size(); ++k) g.kept[k] = row[s.keep_idx[k]];
    }
    return;
  }
  if (v.is_null()) return;
  g.non_null++;
  switch (s.measure) {
    case Measure::kSum:
      if (g.acc.is_null())
        g.acc = v;
      else if (v.type == Type::kLong)
        g.acc.i += v.i;
      else
        g.acc.d += v.d;
      break;
    case Measure::kMin:
      if (g.acc.is_null() || v.compare(g.acc) < 0) g.acc = v;
      break;
    case Measure::kMax:
      if (g.acc.is_null() || v.compare(g.acc) > 0) g.acc = v;
      break;
    case Measure::kMedian: {
      if (v.type == Type::kLong) {
        g.pending_longs.push_back(v.i);
        if (g.pending_longs.size() >= GroupState::kFoldAt) g.fold_pending(a.value_buf);
        break;
      }
      a.value_buf.clear();
      encode_value(a.value_buf, v);
      if (auto h = g.histogram.find(std::string_view(a.value_buf)); h != g.histogram.end())
        ++h->second;
      else
        g.histogram.emplace(a.value_buf, 1);
      break;
    }
    default:
      break;
  }
}

Status Aggregates::update(const core::Row& row, bool late) {
  for (auto& a : aggs_) {
    const AggregateSpec& s = a.spec;
    bool null_group = false;
    key_buf_.clear();
    for (size_t idx : s.group_idx) {
      if (row[idx].is_null()) null_group = true;
      encode_value(key_buf_, row[idx]);
    }
    if (null_group) continue;
    if (!s.windowed) {
      update_group(a, key_buf_, row);
      continue;
    }
    if (late || event_time_idx_ < 0) continue;
    const Value& ts = row[static_cast<size_t>(event_time_idx_)];
    if (ts.type != Type::kTimestamp) continue;
    int64_t last = ts.i - ((ts.i % s.slide_micros) + s.slide_micros) % s.slide_micros;
    for (int64_t start = last; start > ts.i - s.size_micros; start -= s.slide_micros) {
      if (a.closed_windows.count(start)) {  // emitted by a final close: its result stays
        ++skipped_closed_;
        continue;
      }
      suffix_buf_.clear();
      put_i64(suffix_buf_, start);
      suffix_buf_ += key_buf_;
      update_group(a, suffix_buf_, row);
      a.open_windows.insert(start);
    }
  }
  return Status::ok();
}

Status Aggregates::to_row(const AggregateSpec& s, std::string_view suffix, const GroupState& g,
                          const Value& median, core::Row& out) {
  out.clear();
  out.reserve(s.output.size());  // exact: a view over many groups holds every row at once
  if (s.windowed) {
    int64_t start;
    if (!get_i64(suffix, start)) return Status::corruption("bad window key in aggregate " + s.name);
    out.push_back(Value::of_timestamp(start));
    out.push_back(Value::of_timestamp(start + s.size_micros));
  }
  for (size_t i = 0; i < s.group_idx.size(); ++i) {
    Value v;
    if (!decode_value(suffix, v)) return Status::corruption("bad group key in aggregate " + s.name);
    out.push_back(std::move(v));
  }
  switch (s.measure) {
    case Measure::kCount:
      out.push_back(Value::of_long(g.count));
      break;
    case Measure::kSum:
    case Measure::kMin:
    case Measure::kMax:
      out.push_back(g.acc);
      break;
    case Measure::kArgmax:
      out.push_back(g.acc);
      for (size_t k = 0; k < s.keep_idx.size(); ++k)
        out.push_back(k < g.kept.size() ? g.kept[k] : Value());
      break;
    case Measure::kMedian:
      out.push_back(median);
      break;
  }
  return Status::ok();
}

std::vector<int64_t> Aggregates::take_closing(Agg& a, int64_t watermark, bool final,
                                              const HeldQuery& held) {
  std::vector<int64_t> closing;
  if (!a.spec.windowed) return closing;
  for (auto it = a.open_windows.begin(); it != a.open_windows.end();) {
    int64_t start = *it;
    const int64_t end = start + a.spec.size_micros;
    if (!final && end > watermark) break;  // sorted: later ones stay open
    // A post with an event time in the window still waits for its parts: not final yet.
    if (!final && held && held(start, end)) {
      ++it;
      continue;
    }
    closing.push_back(start);
    a.closed_windows.insert(start);
    a.newly_closed.insert(start);
    it = a.open_windows.erase(it);
  }
  return closing;
}

Status Aggregates::close_windows(int64_t watermark, bool final, const HeldQuery& held,
                                 std::map<std::string, std::vector<core::Row>>& out) {
  std::map<std::string, int64_t> h;
  for (auto& a : aggs_) {
    for (int64_t start : take_closing(a, watermark, final, held)) {
      std::string prefix;
      put_i64(prefix, start);
      for (auto g = a.groups.lower_bound(std::string_view(prefix));
           g != a.groups.end() && g->first.compare(0, prefix.size(), prefix) == 0; ++g) {
        core::Row row;
        Value median;
        if (a.spec.measure == Measure::kMedian) {
          h.clear();
          PS_RETURN_IF_ERROR(
              group_histogram(a.spec, store_->live(), prefix_, g->first, g->second, h));
          median = discrete_median(h, g->second.non_null);
        }
        PS_RETURN_IF_ERROR(to_row(a.spec, g->first, g->second, median, row));
        if (!a.spec.table.empty()) out[a.spec.table].push_back(std::move(row));
      }
    }
  }
  return Status::ok();
}

Status Aggregates::close_partials(int64_t watermark, bool final, const HeldQuery& held,
                                  std::vector<std::map<std::string, GroupPartial>>& out,
                                  std::vector<std::vector<int64_t>>& closed) {
  if (out.size() < aggs_.size()) out.resize(aggs_.size());
  if (closed.size() < aggs_.size()) closed.resize(aggs_.size());
  GroupPartial p;
  for (size_t i = 0; i < aggs_.size(); ++i) {
    Agg& a = aggs_[i];
    for (int64_t start : take_closing(a, watermark, final, held)) {
      closed[i].push_back(start);
      std::string prefix;
      put_i64(prefix, start);
      for (auto g = a.groups.lower_bound(std::string_view(prefix));
           g != a.groups.end() && g->first.compare(0, prefix.size(), prefix) == 0; ++g) {
        p.g.count = g->second.count;
        p.g.non_null = g->second.non_null;
        p.g.acc = g->second.acc;
        p.g.kept = g->second.kept;
        p.histogram.clear();
        if (a.spec.measure == Measure::kMedian)
          PS_RETURN_IF_ERROR(
              group_histogram(a.spec, store_->live(), prefix_, g->first, g->second, p.histogram));
        merge_group(a.spec, out[i][g->first], p);
      }
    }
  }
  return Status::ok();
}

void Aggregates::add_closed(const Aggregates& other) {
  for (size_t i = 0; i < aggs_.size() && i < other.aggs_.size(); ++i)
    aggs_[i].closed_windows.insert(other.aggs_[i].closed_windows.begin(),
                                   other.aggs_[i].closed_windows.end());
}

std::map<std::string, core::Schema> Aggregates::window_tables() const {
  std::map<std::string, core::Schema> out;
  for (const auto& a : aggs_)
    if (a.spec.windowed && !a.spec.table.empty()) out[a.spec.table] = a.spec.output;
  return out;
}

void Aggregates::flush(StateStore::WriteBatch& batch) {
  std::string key;
  // Each changed median histogram is one packed merge under "h/<name>\0<group>" (one entry
  // per value cost 27k memtable inserts per 200k-record epoch, most of the state write),
  // written after every group ("a/"), all in key order: RocksDB's memtable inserts a sorted
  // run much faster than keys alternating between two ranges.
  std::vector<std::pair<std::string, std::string>> histograms;
  std::vector<std::pair<std::string_view, int64_t>> entries;
  for (auto& a : aggs_) {
    std::string prefix = prefix_ + agg_prefix(a.spec.name);
    std::string hprefix = prefix_ + hist_prefix(a.spec.name);
    // In key order, for RocksDB's memtable (see Dedup::flush).
    std::sort(a.dirty.begin(), a.dirty.end(),
              [](const auto& x, const auto& y) { return x->first < y->first; });
    for (auto it : a.dirty) {
      key.assign(prefix);
      key += it->first;
      batch.put(key, encode_group(it->second));
      it->second.fold_pending(a.value_buf);
      if (!it->second.histogram.empty()) {
        entries.assign(it->second.histogram.begin(), it->second.histogram.end());
        std::sort(entries.begin(), entries.end());
        std::string packed;
        put_histogram(packed, entries);
        histograms.emplace_back(hprefix + it->first, std::move(packed));
      }
      it->second.histogram.clear();
      it->second.dirty = false;
    }
    a.dirty.clear();
    for (int64_t start : a.newly_closed) {
      batch.put(closed_key(prefix_, a.spec.name, start), "");
      // Final now: views read it from RocksDB; memory keeps only open windows.
      std::string wp;
      put_i64(wp, start);
      auto first = a.groups.lower_bound(std::string_view(wp));
      auto last = first;
      while (last != a.groups.end() && last->first.compare(0, wp.size(), wp) == 0) ++last;
      for (auto g = first; g != last; ++g) a.index.erase(g->first);
      a.groups.erase(first, last);
    }
    a.newly_closed.clear();
  }
  std::sort(histograms.begin(), histograms.end());
  for (const auto& [k, packed] : histograms) batch.merge_histogram(k, packed);
}

size_t Aggregates::groups_in_memory() const {
  size_t n = 0;
  for (const auto& a : aggs_) n += a.groups.size();
  return n;
}

std::vector<const AggregateSpec*> Aggregates::specs() const {
  std::vector<const AggregateSpec*> out;
  for (const auto& a : aggs_) out.push_back(&a.spec);
  return out;
}

const AggregateSpec* Aggregates::find(const std::string& name) const {
  for (const auto& a : aggs_)
    if (a.spec.name == name) return &a.spec;
  return nullptr;
}

}  // namespace pinstream::state
