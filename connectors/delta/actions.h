// Delta log actions and log replay: the add action, file statistics as Delta writes them,
// Spark's schemaString, and a Snapshot (active files, txn versions, metaData) built by
// applying commits one after another, from version 0 or from a checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/parquet/writer.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::connectors::delta {

// The tag holding a data file's CRC-32C (8 hex digits), checked by `pinstream verify`.
inline constexpr const char* kCrc32cTag = "pinstream.crc32c";

struct AddFile {
  std::string path;  // relative to the table root, URL-style (partition dirs use %XX escapes)
  int64_t size = 0;
  int64_t modification_time = 0;  // ms since the epoch
  int64_t num_records = 0;
  std::string stats_json;  // {"numRecords":..,"minValues":{..},"maxValues":{..},"nullCount":{..}}
  // Partition column -> value as Delta serializes it; "" stands for null (written as null).
  std::map<std::string, std::string> partition_values;
  // Delta's free-form string map; files pinstream writes carry kCrc32cTag.
  std::map<std::string, std::string> tags;
  // The Delta `add` action's JSON object (without the {"add": ...} wrapper).
  std::string to_json() const;
  // Corruption when `json` is not an add action object.
  static core::Result<AddFile> from_json(std::string_view json);
};

// The state of a table at one version.
struct Snapshot {
  int64_t version = -1;
  std::map<std::string, AddFile> active;       // path -> add
  std::map<std::string, int64_t> removed;      // path -> deletionTimestamp (tombstones)
  std::map<std::string, int64_t> txn;          // appId -> version
  std::map<std::string, int64_t> txn_updated;  // appId -> lastUpdated
  std::string metadata_json;                   // the metaData action object
  std::string schema_string;
  int min_reader = 1, min_writer = 2;
  std::vector<std::string> reader_features, writer_features;  // protocol 3/7 table features

  // Applies one commit file's text (newline-delimited actions). Corruption on bad JSON.
  core::Status apply_commit(std::string_view text);
};

// Spark's schemaString for `schema`.
std::string schema_string(const core::Schema& schema);
// Per-file statistics JSON for the data columns of `schema` (partition columns excluded by
// the caller). Long strings are cut to a 32-character prefix for minValues and left out of
// maxValues (a cut maximum would not be an upper bound); booleans and arrays have none.
std::string stats_json(const core::Schema& schema, int64_t rows,
                       const std::vector<parquet::ColumnStats>& stats);
// A partition value as Delta serializes it ("" for null).
std::string partition_value(const core::Value& v);
// "col=value" directory name with Hive's escaping (null -> __HIVE_DEFAULT_PARTITION__).
std::string partition_dir(const std::string& column, const std::string& value);
// The commitInfo action line for `operation` with its parameters (a JSON object text).
std::string commit_info_line(const std::string& operation, const std::string& params_json);
int64_t now_ms();
std::string uuid4();

}  // namespace pinstream::connectors::delta
