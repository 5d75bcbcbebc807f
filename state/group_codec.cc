// The stored form of one aggregate group (GroupState): count, non-null count, accumulator,
// argmax kept columns. A median's histogram is stored apart, one packed histogram per group
// under "h/" that each epoch merges its new counts into (see aggregates.h), so that an
// epoch writes only the values it saw.
#include "state/aggregates.h"
#include "state/codec.h"

namespace pinstream::state {

std::string encode_group(const GroupState& g) {
  std::string out;
  put_i64(out, g.count);
  put_i64(out, g.non_null);
  encode_value(out, g.acc);
  encode_row(out, g.kept);
  return out;
}

bool decode_group(std::string_view in, GroupState& g) {
  if (!get_i64(in, g.count) || !get_i64(in, g.non_null) || !decode_value(in, g.acc)) return false;
  uint64_t n;
  // encode_row wrote n then n values: decode them in place.
  if (!get_u64(in, n) || n > in.size()) return false;
  g.kept.resize(n);
  for (auto& v : g.kept)
    if (!decode_value(in, v)) return false;
  return in.empty();
}

}  // namespace pinstream::state
