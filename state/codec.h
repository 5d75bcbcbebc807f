// Binary encodings of Values and Rows for state keys and values. Keys use an
// order-preserving encoding (a type tag, then big-endian sign-flipped integers, ordered
// doubles, and 0x00-escaped strings), so that prefix scans return groups sorted.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/core/schema.h"

namespace pinstream::state {

void encode_value(std::string& out, const core::Value& v);
// Reads one value from the front of `in` (advancing it); false on malformed input.
bool decode_value(std::string_view& in, core::Value& v);

void encode_row(std::string& out, const core::Row& row);
bool decode_row(std::string_view in, core::Row& row);

void put_u64(std::string& out, uint64_t v);  // big-endian
bool get_u64(std::string_view& in, uint64_t& v);
void put_i64(std::string& out, int64_t v);  // order-preserving
bool get_i64(std::string_view& in, int64_t& v);

// Packed histograms (median state): 'P', then (u32 length, encoded value, i64 count)
// entries in encoded-value order, each value once. Merging two sums the counts.
void put_histogram(std::string& out,
                   const std::vector<std::pair<std::string_view, int64_t>>& sorted_entries);
bool is_histogram(std::string_view packed);
// Calls fn(encoded value, count) in value order; false on malformed input.
bool for_each_histogram_entry(std::string_view packed,
                              const std::function<void(std::string_view, int64_t)>& fn);
bool merge_histograms(std::string_view a, std::string_view b, std::string& out);

}  // namespace pinstream::state
