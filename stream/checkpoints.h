// Checkpoints kept every K epochs (SPEC section 6): a RocksDB checkpoint and `manifest.json`
// (epoch, time, generation, source positions, Delta table versions). On a local root,
// `<root>/<id>/` holds `state/` (hard links) and the manifest; where they are kept in an
// object store is stream/checkpoint_store.h. A checkpoint exists once its manifest does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// One file of a checkpoint kept in an object store: its name in the RocksDB checkpoint
// directory, its key in the store, its size in bytes.
struct CheckpointFile {
  std::string name;
  std::string key;
  uint64_t size = 0;
};

struct CheckpointManifest {
  std::string id;  // zero-padded epoch, e.g. "00000010"
  int64_t epoch = 0;
  int64_t time_micros = 0;
  int64_t generation = 0;
  core::Positions positions;
  std::map<std::string, int64_t> table_versions;
  std::vector<CheckpointFile> files;  // object-store layout only; empty on a local root

  std::string to_json() const;
  static core::Result<CheckpointManifest> from_json(const std::string& text);
  // "id epoch time positions versions" on one line, for `pinstream checkpoints`.
  std::string to_line() const;
};

std::string checkpoint_id(int64_t epoch);
// Whether `name` is a checkpoint's id (eight or more digits). Only such names are checkpoints:
// prunes leave every other name of a store alone (the shared namespaces of scale-out:
// `tasks/`, `peers/`, `windows/`, and members' own checkpoint roots).
bool is_checkpoint_id(const std::string& name);
// Every complete checkpoint under `dir`, oldest first.
std::vector<CheckpointManifest> list_checkpoints(const std::string& dir);
// The checkpoint named `id` ("latest", "00000010" or "10"); NotFound lists what exists.
core::Result<CheckpointManifest> find_checkpoint(const std::string& dir, const std::string& id);
// The same choice among `all` (oldest first), kept at `where` (for the message).
core::Result<CheckpointManifest> pick_checkpoint(const std::vector<CheckpointManifest>& all,
                                                 const std::string& id, const std::string& where);
// Writes manifest.json atomically (temp file + rename) into dir/<id>/.
core::Status write_manifest(const std::string& dir, const CheckpointManifest& m);
// Removes all but the newest `keep` checkpoints, and incomplete ones.
void prune_checkpoints(const std::string& dir, int64_t keep);

}  // namespace pinstream::runtime
