// Checkpoints kept every K epochs (SPEC section 6): `<data_dir>/checkpoints/<id>/` holds a
// RocksDB checkpoint (`state/`, hard links) and `manifest.json` (epoch, time, generation,
// source positions, Delta table versions). A checkpoint exists once its manifest does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

struct CheckpointManifest {
  std::string id;  // zero-padded epoch, e.g. "00000010"
  int64_t epoch = 0;
  int64_t time_micros = 0;
  int64_t generation = 0;
  core::Positions positions;
  std::map<std::string, int64_t> table_versions;

  std::string to_json() const;
  static core::Result<CheckpointManifest> from_json(const std::string& text);
  // "id epoch time positions versions" on one line, for `pinstream checkpoints`.
  std::string to_line() const;
};

std::string checkpoint_id(int64_t epoch);
// Every complete checkpoint under `dir`, oldest first.
std::vector<CheckpointManifest> list_checkpoints(const std::string& dir);
// The checkpoint named `id` ("latest", "00000010" or "10"); NotFound lists what exists.
core::Result<CheckpointManifest> find_checkpoint(const std::string& dir, const std::string& id);
// Writes manifest.json atomically (temp file + rename) into dir/<id>/.
core::Status write_manifest(const std::string& dir, const CheckpointManifest& m);
// Removes all but the newest `keep` checkpoints, and incomplete ones.
void prune_checkpoints(const std::string& dir, int64_t keep);

}  // namespace pinstream::runtime
