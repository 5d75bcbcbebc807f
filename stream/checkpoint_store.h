// Where checkpoints are kept (SPEC sections 6 and 10): `runtime.checkpoints`, a local
// directory or `s3://bucket/prefix`. A local root keeps the hard-link layout of
// stream/checkpoints.h (no copy). An object-store root holds, under the root:
//   sst/<stem>-<size>-<crc32c>.sst  RocksDB table files, shared by every checkpoint that has
//                                   them (immutable; size and checksum in the key because file
//                                   numbers repeat across lineages after a restore)
//   <id>/state/<name>               the small files of one checkpoint (MANIFEST, CURRENT,
//                                   OPTIONS, write-ahead log)
//   <id>/manifest.json              uploaded last, listing every file with its key and size:
//                                   a checkpoint exists once its manifest does.
// One process writes a store (the owner of the data directory); reading it beside is safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "connectors/objstore/object_store.h"
#include "stream/checkpoints.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

class CheckpointStore {
 public:
  // `root`: a local path or s3://bucket/prefix (InvalidArgument when malformed; nothing is
  // contacted). `scratch`: a local directory of this process's own (created when needed, its
  // content disposable) for the RocksDB checkpoints being uploaded and the downloads.
  static core::Result<std::unique_ptr<CheckpointStore>> open(const std::string& root,
                                                             const std::string& scratch);
  // The object-store layout over `store` (the tests use a local ObjectStore).
  static std::unique_ptr<CheckpointStore> over(
      std::unique_ptr<connectors::objstore::ObjectStore> store, const std::string& scratch);

  std::string describe() const;
  // True for the object-store layout (uploads; restores download).
  bool remote() const { return store_ != nullptr; }
  // Fails early on a missing bucket or refused credentials (an S3 error names its code).
  core::Status check();

  // Every complete checkpoint, oldest first (incomplete uploads are ignored).
  core::Result<std::vector<CheckpointManifest>> list();
  // "latest", "00000010" or "10"; NotFound lists what exists.
  core::Result<CheckpointManifest> find(const std::string& id);

  // Whether checkpoint `id` is complete in the store (an error reads as absent).
  bool has(const std::string& id);
  // The directory where checkpoint `id`'s RocksDB checkpoint is to be made (it must not exist;
  // its parent does): `<root>/<id>/state` locally, a scratch directory otherwise.
  core::Result<std::string> staging_dir(const std::string& id);
  // Completes checkpoint `m` made in staging_dir(m.id). Local: writes the manifest. Object
  // store: uploads the files the store lacks (new SSTs only), then the manifest, and removes
  // the staging directory. On failure the checkpoint is absent (no manifest), never partial.
  // Safe to run on another thread than staging_dir(), one call at a time.
  core::Status publish(CheckpointManifest m);
  // Removes all but the newest `keep` checkpoints, incomplete ones, and (object store) the
  // shared SSTs no kept manifest references.
  core::Status prune(int64_t keep);

  // Checkpoint `m`'s RocksDB files as a local directory: in place on a local root, else
  // downloaded into `into` (replaced; sizes and SST checksums checked). IoError, Corruption.
  core::Result<std::string> materialize(const CheckpointManifest& m, const std::string& into);
  // What is wrong with checkpoint `m`, one line each: its state is not the one its manifest
  // describes (local), or a file it lists is missing or of another size (object store). A
  // checkpoint pruned meanwhile is no problem.
  std::vector<std::string> problems(const CheckpointManifest& m);

  // Bytes uploaded and files skipped because the store held them (for logs and tests).
  struct UploadStats {
    uint64_t bytes = 0;
    int64_t files = 0, shared_skipped = 0, micros = 0;
  };
  UploadStats last_upload() const;

  // The store's root as an object store, for the namespaces beside the checkpoints that all
  // members of a pipeline share (SPEC section 9): `tasks/`, `peers/`, `windows/`. Prune never
  // touches a key whose first segment is not a checkpoint id. Thread-safe.
  connectors::objstore::ObjectStore& objects();

 private:
  CheckpointStore(std::string root, std::unique_ptr<connectors::objstore::ObjectStore> store,
                  std::string scratch);
  core::Status upload(CheckpointManifest& m, const std::string& dir);
  core::Result<std::string> sst_key(const std::string& path, const std::string& name,
                                    uint64_t size);
  // The complete checkpoints among `objects` (one listing of the whole store), oldest first.
  // A manifest is read once per process: it never changes once written.
  core::Result<std::vector<CheckpointManifest>> manifests_in(
      const std::vector<connectors::objstore::ObjectInfo>& objects);

  std::string root_;  // local root; the URL for an object store
  std::unique_ptr<connectors::objstore::ObjectStore> store_;  // null: local layout
  // objects() of a local root (a local object store over root_); unused otherwise.
  std::unique_ptr<connectors::objstore::ObjectStore> local_objects_;
  std::string scratch_;
  // Keys of SSTs already read, by (name, size, inode, mtime): the hard links of one lineage.
  std::map<std::tuple<std::string, uint64_t, uint64_t, int64_t>, std::string> sst_keys_;
  mutable std::mutex mu_;  // last_, manifests_
  UploadStats last_;
  std::map<std::string, CheckpointManifest> manifests_;  // by id: those read or written
};

// The directory under the data directory for the uploads and downloads in progress.
std::string checkpoint_scratch_dir(const std::string& data_dir);
// The checkpoint store of a configuration (`runtime.checkpoints`, or <data_dir>/checkpoints),
// with its scratch directory under the data directory.
core::Result<std::unique_ptr<CheckpointStore>> open_checkpoint_store(const std::string& root,
                                                                     const std::string& data_dir);

}  // namespace pinstream::runtime
