// Engine internals shared by engine*.cc: per-stream and per-table runtime state and the
// schemas of the tables every pipeline has (dead letters, late records).
#pragma once

#include <memory>
#include <string>

#include "stream/engine.h"

namespace pinstream::runtime {

struct Engine::TableRt {
  std::string name;
  std::unique_ptr<connectors::delta::DeltaTable> table;
  std::unique_ptr<connectors::delta::TableWriter> writer;  // this epoch's staged rows
  // Written by the ingest thread (cleaned streams, dead letters), else by the engine
  // thread (late records, closed windows); each writer is touched by one thread only.
  bool ingest_side = false;
  core::Status append(const core::Row& row) {
    if (!writer) writer = table->new_writer();
    return writer->append(row);
  }
};

// dead_letters: stream, source, position, raw, raw_encoding ("utf8" or "base64" when the
// bytes are not valid UTF-8), reason, time.
core::Schema dead_letter_schema();
// late_records: stream, source, position, key, event_time, watermark, time.
core::Schema late_record_schema();

bool is_valid_utf8(std::string_view s);

}  // namespace pinstream::runtime
