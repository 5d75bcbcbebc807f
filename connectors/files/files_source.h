// The files source: NDJSON files, either in the Kafka-Connect S3-sink layout
// (`<root>/topics/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json`, one partition per
// partition folder, files in startOffset order) or any glob (one partition per stream).
// Position of a record = "<file name>:<line>" (1-based), so a restart resumes after it.
#pragma once

#include <memory>
#include <vector>

#include "connectors/source.h"

namespace pinstream::connectors::files {

// settings: `root` (directory holding topics/...). Per stream: `topic` (S3-sink layout under
// root) or `glob` (a path pattern; `*` and `?` in the file name part only).
std::unique_ptr<Source> make_source(const std::vector<StreamBinding>& bindings,
                                    const core::ConfigNode* settings, core::Status& error);

// Splits "name:line" into its parts; false when malformed.
bool parse_position(const std::string& position, std::string& file, int64_t& line);

}  // namespace pinstream::connectors::files
