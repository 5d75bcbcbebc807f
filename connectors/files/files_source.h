// The files source: NDJSON files, either in the Kafka-Connect S3-sink layout
// (`<root>/topics/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json`, one partition per
// partition folder, files in startOffset order) or any glob (one partition per stream).
// Files are tracked by name: one that appears late is read even when its name sorts before
// files already read. Only complete lines are records: a last line without its newline
// waits for it (and is handed out cut as truncated when an --until-idle run ends); a line
// over the size limit is skipped to its newline without being buffered.
// Position of a record = "<file name>:<line>" (1-based); what a partition commits is
// described in file_position.h.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "connectors/files/file_position.h"
#include "connectors/source.h"

namespace pinstream::connectors::files {

// Default list_interval_ms of a local root and of a remote one (each listing of a remote
// root is one ListObjectsV2 per topic and 1000 objects).
inline constexpr int64_t kLocalListIntervalMs = 200;
inline constexpr int64_t kRemoteListIntervalMs = 5000;

// settings: `root`: a directory holding topics/... (must exist when a stream uses `topic`),
// or `s3://bucket/prefix` (checked at start: a missing bucket or refused credentials are
// InvalidArgument with the S3 error code, an unreachable endpoint Unavailable);
// `list_interval_ms`: how often, once every partition is read to its end, the root is
// listed again for new files (Default: 200 local, 5000 remote); `read_chunk_bytes`: bytes
// per ranged GET of a remote object, the most held per partition (Default: 4 MiB).
// Per stream: `topic` (S3-sink layout under root) or `glob` (a local path pattern; `*` and
// `?` in the file name part only; its directory must exist). InvalidArgument names the key.
core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings);

}  // namespace pinstream::connectors::files
