// A view's partial aggregates per task, as members of a shared pipeline send them to each
// other (SPEC section 9): `GET /api/partials/<view>` answers
//   {"ok":true,"epoch":E,"view":V,"aggregate":A,"shape":S,
//    "tasks":{"<p>":[[group key, group state(, [[value, count], ...])], ...], ...}}
// with every binary field base64 of the state's own encodings (state/codec.h: the group
// key suffix, encode_group, a median's encoded values), so that merging the shares
// (state::merge_group) gives exactly what one process fed every row holds: counts, sums,
// min, max, argmax with its tie rule, and exact medians (whole histograms). `shape` names
// the aggregate's measure and output columns: members whose configurations differ refuse
// to merge instead of answering wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "state/aggregates.h"
#include "state/views.h"
#include "stream/committed_view.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// One member's shares of one aggregate, per task.
struct TaskPartials {
  int64_t epoch = 0;
  std::string shape;
  std::map<int32_t, std::map<std::string, state::GroupPartial>> tasks;
};

// The measure and output columns of `spec`, as `shape` carries them.
std::string aggregate_shape(const state::AggregateSpec& spec);

// The shares of `tasks` in `v`'s state of the aggregate view `view` reads. NotFound /
// InvalidArgument as Views::query; Unavailable before the first commit; Corruption.
core::Result<TaskPartials> read_partials(const state::Views& views, const std::string& view,
                                         const std::map<std::string, std::string>& params,
                                         const CommittedView& v, const std::vector<int32_t>& tasks);

// The wire form above (one JSON line, no newline) and back. parse: Corruption naming what
// is malformed.
std::string partials_json(const std::string& view, const state::AggregateSpec& spec,
                          const TaskPartials& p);
core::Result<TaskPartials> parse_partials(std::string_view body, const state::AggregateSpec& spec);

}  // namespace pinstream::runtime
