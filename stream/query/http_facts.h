// What the HTTP API lists beside the views (SPEC section 7): the tables (version, live
// files, bytes, last commit), the newest dead letters with counts by reason, and the
// checkpoints. Read-only, from the files the engine already writes: Delta logs (replayed
// from their newest checkpoint), the dead_letters table's newest Parquet files, the
// checkpoint manifests. Object-store roots list only what the committed epoch knows.
#pragma once

#include <cstddef>
#include <string>

#include "stream/committed_view.h"

namespace pinstream::runtime {

// {"ok":true,"tables":[{"name","version","files","bytes","last_commit"}]}.
std::string tables_json(const std::string& tables_root, const CommittedView& v);

// {"ok":true,"total":N,"scanned":M,"by_reason":[{"reason","count"}],"samples":[{"stream",
// "position","reason","raw","time"}]}: the `limit` newest samples (raw cut to a prefix) and
// reason counts over the newest files (at most a bounded number of rows: `scanned`).
std::string dead_letters_json(const std::string& table_dir, size_t limit, int64_t total);

// Prometheus lines `pinstream_dead_letter_reasons_total{reason="..."} N` from the counts of
// a dead_letters_json() answer (exact while every dead letter was scanned).
std::string dead_letter_reason_metrics(const std::string& dead_letters_json);

// {"ok":true,"checkpoints":[{"id","epoch","time"}]}, oldest first.
std::string checkpoints_json(const std::string& dir);

}  // namespace pinstream::runtime
