// One task's partial of one closed window (SPEC section 9, scale-out): every group of the
// window with its counts, accumulator, argmax kept columns and a median's whole histogram,
// as bytes, so that the members of a pipeline can hand their tasks' partials to the one
// member that merges them (merge_group) into the window's rows.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "state/aggregates.h"

namespace pinstream::state {

// 'W', then per group (in key order): the key suffix (window start and group values), the
// group (encode_group) and its histogram (put_histogram), each length-prefixed.
std::string encode_partials(const std::map<std::string, GroupPartial>& groups);
// Merges the groups of `in` into `out` (merge_group); false when `in` is malformed.
bool merge_encoded_partials(const AggregateSpec& spec, std::string_view in,
                            std::map<std::string, GroupPartial>& out);
// The output rows of merged partials, in key order, appended to `rows` (AggregateSpec::output
// order). Corruption when a key cannot be decoded.
core::Status rows_of_partials(const AggregateSpec& spec,
                              const std::map<std::string, GroupPartial>& merged,
                              std::vector<core::Row>& rows);

}  // namespace pinstream::state
