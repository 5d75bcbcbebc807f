// Reading aggregates back: group rows for views from a Reader (a snapshot of committed
// state), and exact medians from the histograms under "h/": one packed histogram per group
// ("h/<name>\0<group>", merged per epoch), or, as earlier versions wrote them, one counter
// per value ("h/<name>\0<group><value>"); both are summed.
#include "state/aggregates.h"
#include "state/codec.h"

namespace pinstream::state {
using core::Status;
using core::Value;

std::string agg_prefix(const std::string& name) { return "a/" + name + std::string(1, '\0'); }
std::string hist_prefix(const std::string& name) { return "h/" + name + std::string(1, '\0'); }

Value discrete_median(const std::map<std::string, int64_t>& histogram, int64_t non_null) {
  Value m;
  if (non_null <= 0) return m;
  int64_t cum = 0;
  for (const auto& [enc, n] : histogram) {
    cum += n;
    if (cum * 2 >= non_null) {
      std::string_view e = enc;
      if (!decode_value(e, m)) m.set_null();
      break;
    }
  }
  return m;
}

namespace {

// Length of the group part (window start + group values) at the front of `rest`; 0 when
// malformed. Group keys are self-delimiting, so the histogram value follows it.
size_t group_key_length(const AggregateSpec& spec, std::string_view rest) {
  std::string_view in = rest;
  if (spec.windowed) {
    int64_t start = 0;
    if (!get_i64(in, start)) return 0;
  }
  Value v;
  for (size_t i = 0; i < spec.group_idx.size(); ++i)
    if (!decode_value(in, v)) return 0;
  return rest.size() - in.size();
}

}  // namespace

// Adds one "h/" entry (`value_part` = the key after the group) to `h`; false if malformed.
static bool add_histogram_entry(std::string_view value_part, std::string_view v,
                                std::map<std::string, int64_t>& h) {
  if (value_part.empty())
    return for_each_histogram_entry(
        v, [&](std::string_view value, int64_t n) { h[std::string(value)] += n; });
  int64_t n = 0;
  if (!get_i64(v, n)) return false;
  h[std::string(value_part)] += n;
  return true;
}

Status Aggregates::group_histogram(const AggregateSpec& spec, const StateStore::Reader& reader,
                                   const std::string& key_prefix, std::string_view suffix,
                                   const GroupState& g, std::map<std::string, int64_t>& h) {
  for (const auto& [value, n] : g.histogram) h[value] += n;
  std::string enc;
  for (int64_t x : g.pending_longs) {  // not folded yet (folding needs a non-const group)
    enc.clear();
    encode_value(enc, Value::of_long(x));
    h[enc]++;
  }
  std::string prefix = key_prefix + hist_prefix(spec.name);
  prefix += suffix;
  Status bad;
  PS_RETURN_IF_ERROR(reader.scan(prefix, [&](std::string_view k, std::string_view v) {
    if (!add_histogram_entry(k.substr(prefix.size()), v, h)) {
      bad = Status::corruption("unreadable median histogram of aggregate " + spec.name);
      return false;
    }
    return true;
  }));
  return bad;
}

Status Aggregates::read_rows(const AggregateSpec& spec, const StateStore::Reader& reader,
                             std::vector<core::Row>& rows) const {
  std::string prefix = prefix_ + agg_prefix(spec.name);
  std::vector<std::pair<std::string, GroupState>> groups;  // in key order
  Status bad;
  // Without a median a group's row is made as it is read: the groups are not held beside
  // their rows (a windowed aggregate's view reads a row per window and group).
  const bool median = spec.measure == Measure::kMedian;
  GroupState g;
  PS_RETURN_IF_ERROR(reader.scan(prefix, [&](std::string_view k, std::string_view v) {
    g = GroupState();
    if (!decode_group(v, g)) {
      bad = Status::corruption("unreadable state of aggregate " + spec.name);
      return false;
    }
    if (median) {
      groups.emplace_back(std::string(k.substr(prefix.size())), std::move(g));
      return true;
    }
    core::Row row;
    bad = to_row(spec, k.substr(prefix.size()), g, Value(), row);
    rows.push_back(std::move(row));
    return bad.is_ok();
  }));
  PS_RETURN_IF_ERROR(bad);
  if (!median) return Status::ok();
  std::vector<Value> medians(groups.size());
  if (spec.measure == Measure::kMedian) {
    // One pass over the histograms, which come in the same (group key) order as the groups;
    // a group's entries are contiguous (group keys are self-delimiting).
    std::string hp = prefix_ + hist_prefix(spec.name);
    size_t gi = 0;
    std::string current;
    std::map<std::string, int64_t> h;
    auto finish = [&] {
      while (gi < groups.size() && groups[gi].first < current) ++gi;
      if (gi < groups.size() && groups[gi].first == current)
        medians[gi] = discrete_median(h, groups[gi].second.non_null);
      h.clear();
    };
    PS_RETURN_IF_ERROR(reader.scan(hp, [&](std::string_view k, std::string_view v) {
      std::string_view rest = k.substr(hp.size());
      size_t len = group_key_length(spec, rest);
      if (len == 0) {
        bad = Status::corruption("unreadable median histogram of aggregate " + spec.name);
        return false;
      }
      std::string_view group = rest.substr(0, len);
      if (group != current) {
        if (!current.empty() || !h.empty()) finish();
        current.assign(group);
      }
      if (!add_histogram_entry(rest.substr(len), v, h)) {
        bad = Status::corruption("unreadable median histogram of aggregate " + spec.name);
        return false;
      }
      return true;
    }));
    PS_RETURN_IF_ERROR(bad);
    if (!h.empty()) finish();
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    core::Row row;
    PS_RETURN_IF_ERROR(to_row(spec, groups[i].first, groups[i].second, medians[i], row));
    rows.push_back(std::move(row));
  }
  return Status::ok();
}

// A task's groups and histograms, merged into `out`: the groups first (one scan), then the
// histograms (one scan, each entry added to its group's share).
Status Aggregates::read_partials(const AggregateSpec& spec, const StateStore::Reader& reader,
                                 const std::string& key_prefix,
                                 std::map<std::string, GroupPartial>& out) {
  const std::string prefix = key_prefix + agg_prefix(spec.name);
  std::map<std::string, GroupPartial, std::less<>> mine;
  Status bad;
  PS_RETURN_IF_ERROR(reader.scan(prefix, [&](std::string_view k, std::string_view v) {
    GroupPartial& p = mine[std::string(k.substr(prefix.size()))];
    if (!decode_group(v, p.g)) {
      bad = Status::corruption("unreadable state of aggregate " + spec.name);
      return false;
    }
    return true;
  }));
  PS_RETURN_IF_ERROR(bad);
  if (spec.measure == Measure::kMedian) {
    const std::string hp = key_prefix + hist_prefix(spec.name);
    PS_RETURN_IF_ERROR(reader.scan(hp, [&](std::string_view k, std::string_view v) {
      std::string_view rest = k.substr(hp.size());
      size_t len = group_key_length(spec, rest);
      auto it = len == 0 ? mine.end() : mine.find(rest.substr(0, len));
      if (len == 0 ||
          (it != mine.end() && !add_histogram_entry(rest.substr(len), v, it->second.histogram))) {
        bad = Status::corruption("unreadable median histogram of aggregate " + spec.name);
        return false;
      }
      return true;
    }));
    PS_RETURN_IF_ERROR(bad);
  }
  for (auto& [suffix, p] : mine) merge_group(spec, out[suffix], p);
  return Status::ok();
}

}  // namespace pinstream::state
