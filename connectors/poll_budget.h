// How many records a source's poll asks for. A poll's records are decoded by the same core
// right after it: while their bytes (and the rows decoded from them) fit in its cache they
// are read back from there, not from memory (4,096 realistic records, 1.4 MB, did not fit:
// 30% more CPU; bench/README.md, "Ingest thread: polls sized to the core's cache"). So a
// poll asks for about kBytes of record bytes: as many records as the moving average size
// of the records its earlier polls handed out says, never fewer than kMinRecords (nor more
// than the caller allows).
#pragma once

#include <algorithm>
#include <cstddef>

#include "stream/core/schema.h"

namespace pinstream::connectors {

class PollBudget {
 public:
  static constexpr size_t kBytes = 128 * 1024;  // record bytes a poll aims at
  static constexpr size_t kMinRecords = 64;     // however large the records
  static constexpr size_t kFirstRecords = 256;  // before any record size is known

  // The records the next poll should ask for, at most `max_records`.
  size_t records(size_t max_records) const {
    if (avg_record_bytes_ <= 0) return std::min(max_records, kFirstRecords);
    auto n = static_cast<size_t>(static_cast<double>(kBytes) / avg_record_bytes_);
    return std::clamp(n, std::min(max_records, kMinRecords), max_records);
  }

  // Learns from the records a poll put in `out` from index `first` on.
  void learn(const core::Batch& out, size_t first) {
    if (out.size <= first) return;
    size_t bytes = 0;
    for (size_t i = first; i < out.size; ++i) bytes += out.records[i].bytes.size();
    const double avg = static_cast<double>(bytes) / static_cast<double>(out.size - first);
    avg_record_bytes_ = avg_record_bytes_ <= 0 ? avg : 0.75 * avg_record_bytes_ + 0.25 * avg;
  }

 private:
  double avg_record_bytes_ = 0;  // of the records polled so far (moving average)
};

}  // namespace pinstream::connectors
