// The pipeline configuration (one YAML file): sources, streams with their cleaning steps,
// the join and its derived columns, aggregates, views, tables and the runtime. This file
// reads the parts the runtime owns; the `steps`/`input`, `aggregates` and `views` sections
// are parsed by the components that run them (transforms, state), which reject unknown keys.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "stream/core/config.h"
#include "stream/core/status.h"
#include "stream/tasks.h"

namespace pinstream::runtime {

struct RuntimeConfig {
  std::string data_dir = "./pinstream-data";  // Default: ./pinstream-data
  int64_t epoch_interval_ms = 1000;           // Default: 1000
  int64_t epoch_max_records = 200000;         // Default: 200000 raw records per epoch
  int64_t checkpoint_every_epochs = 10;       // Default: 10
  int64_t checkpoint_retention = 20;          // Default: keep the last 20 checkpoints
  int64_t max_record_bytes = 1 << 20;         // Default: 1 MiB
  std::string socket;                         // Default: <data_dir>/pinstream.sock
  int64_t metrics_port = 0;                   // Default: 0 (no HTTP metrics)
  int64_t poll_batch = 4096;                  // Default: 4096 records per poll
  // Where checkpoints are kept: a local path or s3://bucket/prefix. A process whose state
  // directory is missing restores the newest checkpoint kept there (when set explicitly).
  std::string checkpoints;  // Default: "" = <data_dir>/checkpoints
  // runtime.http: the dashboard, JSON API and metrics over HTTP (SPEC section 7).
  std::string http_listen;  // Default: "" (off); host:port
  std::string http_token;   // Default: $PINSTREAM_HTTP_TOKEN; required off loopback
  // A shared pipeline's member whose record (peers/ in the checkpoint store) is older than
  // this is left out of merged answers and reported stale (SPEC section 9).
  int64_t peer_stale_ms = 15000;  // Default: 15000

  std::string state_dir() const { return data_dir + "/state"; }
  std::string checkpoints_dir() const {
    return checkpoints.empty() ? data_dir + "/checkpoints" : checkpoints;
  }
  std::string socket_path() const { return socket.empty() ? data_dir + "/pinstream.sock" : socket; }
};

struct StreamConfig {
  std::string name;
  std::string key;
  std::string event_time;           // may be empty
  int64_t allowed_lateness_ms = 0;  // Default: 0 (lateness per source partition)
  // An event time further ahead of the processing clock than this is late (reason future)
  // and does not move the watermark: one bad clock must not make every later record late.
  int64_t max_future_ms = 24LL * 3600 * 1000;  // Default: 1 day
  std::string table;                           // may be empty: no table for the stream
  std::string archive_root;                    // raw archive root ("" = none)
  std::string archive_topic;                   // Default: the source's topic / stream name
  const core::ConfigNode* source = nullptr;    // the `source.<kind>` map of the active kind
  const core::ConfigNode* input = nullptr;     // raw fields and types
  const core::ConfigNode* steps = nullptr;     // cleaning steps (may be null)
  bool rescue = false;  // raw fields not in `input` kept in a `_rescued_data` column
};

struct JoinConfig {
  std::string name = "posts";
  std::vector<std::string> streams;
  std::string key;
  int64_t expire_after_ms = 7LL * 24 * 3600 * 1000;  // Default: 7 days
  const core::ConfigNode* derive = nullptr;
};

// `tables.upkeep` (SPEC section 5, "Table upkeep").
struct UpkeepConfig {
  int64_t min_files = 32;                   // Default: compact from 32 small files
  int64_t target_file_bytes = 128ll << 20;  // Default: 128 MiB
  bool auto_compact = true;                 // Default: the daemon compacts by itself
  int64_t check_interval_ms = 1000;         // Default: the daemon looks every second
  // `vacuum_interval` ("24h"): the daemon vacuums every table this often, the first time
  // once started (as `pinstream vacuum` does, keeping every kept checkpoint's files).
  int64_t vacuum_interval_ms = 0;  // Default: 0: off (`vacuum_interval: off`)
  // `vacuum_retain` ("168h"): the scheduled vacuum's retention.
  int64_t vacuum_retain_ms = -1;  // Default: -1: each table's delta.deletedFileRetentionDuration
};

struct TablesConfig {
  std::string root;  // Default: <data_dir>/tables
  std::string dead_letters = "dead_letters";
  std::string late_records = "late_records";
  std::string join_expired = "join_expired";  // join entries whose parts expired (with a join)
  // Epochs grouped into one Delta commit per table (txn = the group's last epoch; a
  // checkpoint's epoch and the last one always commit).
  int64_t commit_every = 1;  // Default: 1: every epoch commits its tables
  UpkeepConfig upkeep;
};

struct PipelineConfig {
  std::string file;
  std::string id = "pinterest";
  // pipeline.tasks (stream/tasks.h): `partitions` needs input keyed by the join key, each
  // key in the same partition number of every stream.
  TaskMode tasks = TaskMode::kSingle;  // Default: single
  RuntimeConfig runtime;
  std::string source_kind;
  const core::ConfigNode* source_settings = nullptr;  // `source.<kind>` (may be null)
  std::vector<StreamConfig> streams;
  bool has_join = false;
  JoinConfig join;
  const core::ConfigNode* aggregates = nullptr;
  const core::ConfigNode* views = nullptr;
  TablesConfig tables;

  int stream_index(const std::string& name) const;
  // A human-readable summary for `pinstream validate`.
  std::string describe() const;

  std::shared_ptr<core::ConfigNode> root;  // owns every node pointed to above
};

// Loads and checks a configuration file. InvalidArgument "file:line:col: key '...': ..." on
// any error (the CLI exits 2 with it).
core::Result<PipelineConfig> load_pipeline_config(const std::string& path);
core::Result<PipelineConfig> parse_pipeline_config(std::shared_ptr<core::ConfigNode> root,
                                                   const std::string& file);

// The shipped default pipeline (examples/pinterest/pipeline.yaml, compiled in), for the
// embedded demo and for `--config` -less commands.
const char* default_pipeline_yaml();

}  // namespace pinstream::runtime
