#include "state/join.h"

#include <algorithm>
#include <set>

#include "state/codec.h"

namespace pinstream::state {
using core::Status;

namespace {

constexpr std::string_view kPrefix = "j/";

// A part's flags as stored: the string values this layout has always held.
constexpr std::string_view kLateTag = "L";

std::string_view flags_tag(PartFlags flags) { return has(flags, PartFlags::kLate) ? kLateTag : ""; }

// Value layout: first_arrival u64, mask u64, then per present part: flags (string value),
// row length (long value), encoded row; then, when the entry holds an event time, the
// holding stream (long value) and the time (timestamp value). Entries written before
// holds existed end after their parts and hold nothing.
bool decode_waiting(std::string_view v, size_t n, std::vector<std::optional<core::Row>>& parts,
                    std::vector<PartFlags>& flags, int64_t& first_arrival,
                    std::optional<int64_t>& hold, uint32_t& hold_stream) {
  uint64_t arrival = 0, mask = 0;
  if (!get_u64(v, arrival) || !get_u64(v, mask)) return false;
  first_arrival = static_cast<int64_t>(arrival);
  for (size_t s = 0; s < n; ++s) {
    if (!(mask & (uint64_t{1} << s))) continue;
    core::Value tag, row_len;
    if (!decode_value(v, tag) || !decode_value(v, row_len) || tag.type != core::Type::kString ||
        row_len.type != core::Type::kLong || row_len.i < 0 ||
        static_cast<uint64_t>(row_len.i) > v.size())
      return false;
    if (tag.s == kLateTag)
      flags[s] = PartFlags::kLate;
    else if (tag.s.empty())
      flags[s] = PartFlags::kNone;
    else
      return false;
    core::Row r;
    if (!decode_row(v.substr(0, static_cast<size_t>(row_len.i)), r)) return false;
    v.remove_prefix(static_cast<size_t>(row_len.i));
    parts[s] = std::move(r);
  }
  if (v.empty()) return true;
  core::Value stream, time;
  if (!decode_value(v, stream) || !decode_value(v, time) || stream.type != core::Type::kLong ||
      stream.i < 0 || static_cast<uint64_t>(stream.i) >= n || time.type != core::Type::kTimestamp)
    return false;
  hold_stream = static_cast<uint32_t>(stream.i);
  hold = time.i;
  return v.empty();
}

// The column names of a stream's parts, as recorded in the state.
constexpr std::string_view kColumnsPrefix = "jc/";

std::string column_list(const core::Schema& schema) {
  std::string out;
  for (const auto& f : schema.fields()) out += f.name + "\n";
  return out;
}

// How a stored part becomes one of the current schema: for each current column, the stored
// column of that name (-1: the column is new, null in the part). Empty when they are the
// same; nullopt when the state recorded no names (then the parts must have the current
// width, else they cannot be mapped).
using Remap = std::optional<std::vector<int>>;
core::Result<Remap> remap_of(const StateStore& store, const std::string& key,
                             const std::string& current, const core::Schema& schema) {
  PS_ASSIGN_OR_RETURN(std::optional<std::string> stored, store.live().get(key));
  if (!stored) return Remap();
  if (*stored == current) return Remap(std::vector<int>{});
  std::vector<std::string> old;
  for (size_t at = 0, end; (end = stored->find('\n', at)) != std::string::npos; at = end + 1)
    old.push_back(stored->substr(at, end - at));
  std::vector<int> map;
  for (const auto& f : schema.fields()) {
    auto it = std::find(old.begin(), old.end(), f.name);
    map.push_back(it == old.end() ? -1 : static_cast<int>(it - old.begin()));
  }
  return Remap(std::move(map));
}

// `part` in the current layout, or false when it cannot be (see remap_of).
bool adapt(core::Row& part, const Remap& remap, size_t width) {
  if (!remap) return part.size() == width;
  if (remap->empty()) return part.size() == width;
  core::Row out(width);
  for (size_t c = 0; c < width; ++c) {
    const int from = (*remap)[c];
    if (from >= 0 && static_cast<size_t>(from) < part.size())
      out[c] = std::move(part[static_cast<size_t>(from)]);
  }
  part = std::move(out);
  return true;
}

}  // namespace

std::string Join::join_key(int64_t key) const {
  std::string k(prefix_);
  k += kPrefix;
  put_i64(k, key);
  return k;
}

core::Result<std::unique_ptr<Join>> Join::build(StateStore& store, std::vector<std::string> names,
                                                std::vector<core::Schema> schemas, std::string key,
                                                int64_t expire_after_micros,
                                                std::string key_prefix) {
  if (schemas.empty() || schemas.size() > 64 || names.size() != schemas.size())
    return Status::invalid("join: needs 1 to 64 streams, each with a name and a schema");
  std::unique_ptr<Join> j(new Join());
  j->store_ = &store;
  j->prefix_ = std::move(key_prefix);
  j->n_ = schemas.size();
  j->expire_after_ = expire_after_micros;
  std::set<std::string> seen{key};
  j->out_schema_.add({key, core::Type::kLong, false});
  for (size_t s = 0; s < schemas.size(); ++s) {
    int k = schemas[s].index_of(key);
    if (k < 0)
      return Status::invalid("join key '" + key + "' is not a column of stream '" + names[s] + "'");
    if (schemas[s].field(static_cast<size_t>(k)).type != core::Type::kLong)
      return Status::invalid("join key '" + key + "' of stream '" + names[s] + "' is not a long");
    j->key_index_.push_back(static_cast<size_t>(k));
    j->widths_.push_back(schemas[s].size());
    std::vector<size_t> take;
    for (size_t c = 0; c < schemas[s].size(); ++c) {
      if (static_cast<int>(c) == k) continue;
      const core::Field& f = schemas[s].field(c);
      if (!seen.insert(f.name).second)
        return Status::invalid(
            "join: column '" + f.name + "' of stream '" + names[s] +
            "' clashes with another stream's column; rename it in that stream's steps");
      take.push_back(c);
      j->out_schema_.add(f);
    }
    j->take_.push_back(std::move(take));
  }
  j->spare_.resize(j->n_);
  // Reload the parts still waiting at the last committed epoch, in the current layout.
  std::vector<Remap> remaps;
  for (size_t s = 0; s < schemas.size(); ++s) {
    j->columns_.emplace_back(j->prefix_ + std::string(kColumnsPrefix) + names[s],
                             column_list(schemas[s]));
    PS_ASSIGN_OR_RETURN(Remap r,
                        remap_of(store, j->columns_[s].first, j->columns_[s].second, schemas[s]));
    remaps.push_back(std::move(r));
  }
  Status bad;
  const std::string parts_prefix = j->prefix_ + std::string(kPrefix);
  PS_RETURN_IF_ERROR(store.live().scan(parts_prefix, [&](std::string_view k, std::string_view v) {
    k.remove_prefix(parts_prefix.size());
    int64_t key_value = 0;
    if (!get_i64(k, key_value) || !k.empty() || j->index_.find(key_value) != IntMap::kNone) {
      bad = Status::corruption("join: malformed waiting parts in state");
      return false;
    }
    uint32_t slot = 0;
    Waiting& w = j->emplace(key_value, 0, slot);
    w.persisted = true;
    if (!decode_waiting(v, j->n_, w.parts, w.flags, w.first_arrival, w.hold, w.hold_stream)) {
      bad = Status::corruption("join: malformed waiting parts in state");
      return false;
    }
    for (size_t s = 0; s < j->n_; ++s) {
      if (w.parts[s] && !adapt(*w.parts[s], remaps[s], schemas[s].size())) {
        bad = Status::invalid(
            "join state holds parts of stream '" + names[s] + "' with " +
            std::to_string(w.parts[s]->size()) + " columns, the configuration gives it " +
            std::to_string(schemas[s].size()) +
            " (a column was added before the state recorded its columns): replay from a "
            "checkpoint taken after the change, or rebuild with --from-checkpoint 0");
        return false;
      }
      // Rewritten in the current layout with the first flush, beside the new names.
      if (w.parts[s] && remaps[s] && !remaps[s]->empty() && !w.dirty) {
        w.dirty = true;
        j->dirty_.push_back(slot);
      }
    }
    return true;
  }));
  PS_RETURN_IF_ERROR(bad);
  return j;
}

void Join::release(Waiting& w) {
  if (w.hold) holds_stale_ = true;
  w.hold.reset();
}

void Join::sort_holds() const {
  if (!holds_stale_) return;
  holds_sorted_.clear();
  for (const Waiting& w : slots_)
    if (w.live && w.hold) holds_sorted_.push_back(*w.hold);
  std::sort(holds_sorted_.begin(), holds_sorted_.end());
  holds_stale_ = false;
}

std::optional<int64_t> Join::earliest_hold() const {
  sort_holds();
  return holds_sorted_.empty() ? std::nullopt : std::optional<int64_t>(holds_sorted_.front());
}

bool Join::holds_between(int64_t start, int64_t end) const {
  sort_holds();
  auto it = std::lower_bound(holds_sorted_.begin(), holds_sorted_.end(), start);
  return it != holds_sorted_.end() && *it < end;
}

std::map<int64_t, int64_t> Join::held() const {
  std::map<int64_t, int64_t> out;
  for (const Waiting& w : slots_)
    if (w.live && w.hold) ++out[*w.hold];
  return out;
}

Join::Waiting& Join::emplace(int64_t key, int64_t now_micros, uint32_t& slot) {
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Waiting& w = slots_[slot];
  w.parts.resize(n_);
  w.flags.assign(n_, PartFlags::kNone);
  w.key = key;
  w.first_arrival = now_micros;
  w.hold.reset();
  w.hold_stream = 0;
  w.live = true;
  w.persisted = false;
  w.dirty = false;
  w.cold = false;
  w.written_at = 0;
  index_.insert(key, slot);
  return w;
}

// Spare rows are kept up to a bound, so a burst of waiting parts does not pin its memory.
void Join::recycle(uint32_t stream, core::Row&& row) {
  constexpr size_t kMaxSpare = 4096;
  if (spare_[stream].size() < kMaxSpare) spare_[stream].push_back(std::move(row));
}

void Join::forget(uint32_t slot) {
  Waiting& w = slots_[slot];
  release(w);
  for (size_t s = 0; s < n_; ++s) {
    if (!w.parts[s]) continue;
    recycle(static_cast<uint32_t>(s), std::move(*w.parts[s]));
    w.parts[s].reset();
  }
  if (w.persisted) deleted_.insert(w.key);
  if (w.cold) --cold_;
  w.cold = false;
  w.live = false;
  w.dirty = false;
  index_.erase(w.key);
  free_slots_.push_back(slot);
}

std::vector<std::vector<size_t>> Join::part_columns(const std::vector<bool>& out_needed) const {
  std::vector<std::vector<size_t>> cols(n_);
  size_t o = 1;
  for (size_t s = 0; s < n_; ++s) {
    cols[s].push_back(key_index_[s]);
    for (size_t c : take_[s]) {
      if (o < out_needed.size() && out_needed[o]) cols[s].push_back(c);
      ++o;
    }
    std::sort(cols[s].begin(), cols[s].end());
  }
  return cols;
}

core::Result<bool> Join::add(uint32_t stream, int64_t key, core::Row part, PartFlags flags,
                             int64_t now_micros, core::Row& out, PartFlags& flags_out,
                             std::optional<int64_t> hold) {
  if (stream >= n_) return Status::invalid("join: no stream " + std::to_string(stream));
  return place(stream, key, std::move(part), flags, now_micros, out, flags_out, hold);
}

core::Result<bool> Join::add_copy(uint32_t stream, int64_t key, const core::Row& row,
                                  const std::vector<size_t>& columns, PartFlags flags,
                                  int64_t now_micros, core::Row& out, PartFlags& flags_out,
                                  std::optional<int64_t> hold) {
  if (stream >= n_) return Status::invalid("join: no stream " + std::to_string(stream));
  core::Row part;
  if (!spare_[stream].empty()) {
    part = std::move(spare_[stream].back());
    spare_[stream].pop_back();
  }
  part.resize(row.size());
  if (columns.empty()) {
    for (size_t c = 0; c < row.size(); ++c) part[c] = row[c];
  } else {
    for (core::Value& v : part) v.set_null();
    for (size_t c : columns) part[c] = row[c];
  }
  return place(stream, key, std::move(part), flags, now_micros, out, flags_out, hold);
}

core::Result<bool> Join::place(uint32_t stream, int64_t key, core::Row&& part, PartFlags flags,
                               int64_t now_micros, core::Row& out, PartFlags& flags_out,
                               std::optional<int64_t> hold) {
  uint32_t slot = index_.find(key);
  Waiting* w = slot == IntMap::kNone ? &emplace(key, now_micros, slot) : &slots_[slot];
  if (w->cold) PS_RETURN_IF_ERROR(warm(*w));
  if (w->parts[stream]) recycle(stream, std::move(*w->parts[stream]));
  w->parts[stream] = std::move(part);
  w->flags[stream] = flags;
  if (w->hold && w->hold_stream == stream) release(*w);  // the part that held it is replaced
  for (const auto& p : w->parts) {
    if (!p) {
      if (hold) {
        release(*w);
        w->hold = hold;
        holds_stale_ = true;
        w->hold_stream = stream;
      }
      if (!w->dirty) {
        w->dirty = true;
        dirty_.push_back(slot);
      }
      return false;
    }
  }
  // Swapped, not moved: `out`'s previous buffers go back with the part rows for reuse.
  out.resize(out_schema_.size());
  out[0].set_long(key);
  size_t o = 1;
  for (size_t s = 0; s < n_; ++s)
    for (size_t c : take_[s]) swap(out[o++], (*w->parts[s])[c]);
  flags_out = PartFlags::kNone;
  for (PartFlags f : w->flags) flags_out = flags_out | f;
  forget(slot);
  return true;
}

core::Status Join::warm(Waiting& w) {
  PS_ASSIGN_OR_RETURN(std::optional<std::string> v, store_->live().get(join_key(w.key)));
  std::vector<std::optional<core::Row>> parts(n_);
  std::vector<PartFlags> flags(n_, PartFlags::kNone);
  int64_t first_arrival = 0;
  std::optional<int64_t> hold;
  uint32_t hold_stream = 0;
  bool same = v && decode_waiting(*v, n_, parts, flags, first_arrival, hold, hold_stream) &&
              first_arrival == w.first_arrival && hold == w.hold;
  for (size_t s = 0; same && s < n_; ++s)
    same = parts[s].has_value() == w.parts[s].has_value() && flags[s] == w.flags[s] &&
           (!parts[s] || parts[s]->size() == widths_[s]);
  if (!same)
    return Status::corruption("join: the waiting parts of key " + std::to_string(w.key) +
                              " in the state differ from the ones it wrote; rebuild it with "
                              "replay --from-checkpoint latest");
  for (size_t s = 0; s < n_; ++s)
    if (parts[s]) w.parts[s] = std::move(*parts[s]);
  w.cold = false;
  --cold_;
  ++reloads_;
  return Status::ok();
}

void Join::cool() {
  if (flushes_ < kColdFlushes) return;
  for (Waiting& w : slots_) {
    if (!w.live || w.cold || w.dirty || !w.persisted || w.written_at + kColdFlushes > flushes_)
      continue;
    for (auto& p : w.parts)
      if (p) core::Row().swap(*p);  // engaged (the part is present), its memory freed
    w.cold = true;
    ++cold_;
  }
}

core::Result<size_t> Join::expire(int64_t now_micros, std::vector<Expired>* out) {
  size_t n = 0;
  const size_t first_out = out ? out->size() : 0;
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    const Waiting& w = slots_[slot];
    if (!w.live || w.first_arrival >= now_micros - expire_after_) continue;
    if (out) {
      Expired e{w.key, std::vector<bool>(n_), w.first_arrival, w.hold};
      for (size_t s = 0; s < n_; ++s) e.present[s] = w.parts[s].has_value();
      out->push_back(std::move(e));
    }
    forget(static_cast<uint32_t>(slot));
    ++n;
  }
  if (out)
    std::sort(out->begin() + static_cast<std::ptrdiff_t>(first_out), out->end(),
              [](const Expired& a, const Expired& b) { return a.key < b.key; });
  return n;
}

void Join::flush(StateStore::WriteBatch& batch) {
  if (!columns_written_) {
    for (const auto& [key, names] : columns_) batch.put(key, names);
    columns_written_ = true;
  }
  ++flushes_;
  cool();  // before this flush's writes: what it writes is not committed yet
  // Keys in order: RocksDB's memtable inserts a sorted run much faster than random keys.
  std::vector<int64_t> keys(deleted_.begin(), deleted_.end());
  std::sort(keys.begin(), keys.end());
  for (int64_t key : keys) batch.del(join_key(key));
  deleted_.clear();
  // Slots in key order; a slot freed and reused within the epoch may be listed twice, its
  // dirty flag is set at most once.
  std::vector<uint32_t> order;
  order.reserve(dirty_.size());
  for (uint32_t slot : dirty_)
    if (slots_[slot].live && slots_[slot].dirty) {
      slots_[slot].dirty = false;
      order.push_back(slot);
    }
  std::sort(order.begin(), order.end(),
            [this](uint32_t a, uint32_t b) { return slots_[a].key < slots_[b].key; });
  std::string v, r;
  for (uint32_t slot : order) {
    Waiting& w = slots_[slot];
    const int64_t key = w.key;
    v.clear();
    put_u64(v, static_cast<uint64_t>(w.first_arrival));
    uint64_t mask = 0;
    for (size_t s = 0; s < n_; ++s)
      if (w.parts[s]) mask |= uint64_t{1} << s;
    put_u64(v, mask);
    for (size_t s = 0; s < n_; ++s) {
      if (!w.parts[s]) continue;
      encode_value(v, core::Value::of_string(std::string(flags_tag(w.flags[s]))));
      r.clear();
      encode_row(r, *w.parts[s]);
      encode_value(v, core::Value::of_long(static_cast<int64_t>(r.size())));
      v += r;
    }
    if (w.hold) {
      encode_value(v, core::Value::of_long(static_cast<int64_t>(w.hold_stream)));
      encode_value(v, core::Value::of_timestamp(*w.hold));
    }
    batch.put(join_key(key), v);
    w.persisted = true;
    w.written_at = flushes_;
  }
  dirty_.clear();
}

}  // namespace pinstream::state
