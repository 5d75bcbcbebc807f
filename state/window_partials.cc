#include "state/window_partials.h"

#include "state/codec.h"

namespace pinstream::state {

namespace {

void put_bytes(std::string& out, std::string_view bytes) {
  put_u64(out, bytes.size());
  out.append(bytes);
}

bool get_bytes(std::string_view& in, std::string_view& bytes) {
  uint64_t n = 0;
  if (!get_u64(in, n) || n > in.size()) return false;
  bytes = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string encode_partials(const std::map<std::string, GroupPartial>& groups) {
  std::string out(1, 'W');
  std::vector<std::pair<std::string_view, int64_t>> entries;
  std::string packed;
  for (const auto& [suffix, p] : groups) {
    put_bytes(out, suffix);
    put_bytes(out, encode_group(p.g));
    packed.clear();
    if (!p.histogram.empty()) {
      entries.assign(p.histogram.begin(), p.histogram.end());
      put_histogram(packed, entries);
    }
    put_bytes(out, packed);
  }
  return out;
}

bool merge_encoded_partials(const AggregateSpec& spec, std::string_view in,
                            std::map<std::string, GroupPartial>& out) {
  if (in.empty() || in[0] != 'W') return false;
  in.remove_prefix(1);
  GroupPartial p;
  while (!in.empty()) {
    std::string_view suffix, group, hist;
    if (!get_bytes(in, suffix) || !get_bytes(in, group) || !get_bytes(in, hist)) return false;
    p = GroupPartial();
    if (!decode_group(group, p.g)) return false;
    if (!hist.empty() && !for_each_histogram_entry(hist, [&](std::string_view v, int64_t n) {
          p.histogram[std::string(v)] += n;
        }))
      return false;
    merge_group(spec, out[std::string(suffix)], p);
  }
  return true;
}

core::Status rows_of_partials(const AggregateSpec& spec,
                              const std::map<std::string, GroupPartial>& merged,
                              std::vector<core::Row>& rows) {
  for (const auto& [suffix, p] : merged) {
    core::Value median = spec.measure == Measure::kMedian
                             ? discrete_median(p.histogram, p.g.non_null)
                             : core::Value();
    core::Row row;
    PS_RETURN_IF_ERROR(Aggregates::to_row(spec, suffix, p.g, median, row));
    rows.push_back(std::move(row));
  }
  return core::Status::ok();
}

}  // namespace pinstream::state
