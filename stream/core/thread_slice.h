// Scheduling hint for latency-sensitive threads. Linux 6.6+ schedules normal threads by
// EEVDF, where a thread may ask for a shorter time slice (`sched_attr::sched_runtime`,
// honoured since 6.12): its virtual deadlines come sooner, so it preempts busy threads on
// wake-up instead of waiting for their slice to end, while its CPU share (its nice weight)
// stays the same. No privilege is needed. Older kernels refuse or ignore it: nothing changes.
#pragma once

#include <cstdint>

namespace pinstream::core {

// Asks the kernel for a `slice_ns` time slice for the calling thread (keeping its policy
// SCHED_OTHER and its nice value). Returns whether the kernel accepted the request.
bool request_short_slice(uint64_t slice_ns);

}  // namespace pinstream::core
