// Schema evolution of an existing table at open (SPEC section 5): columns may be added
// (nullable: the older files read them as null), nothing else may change.
#pragma once

#include <string>

#include "stream/core/status.h"

namespace pinstream::connectors::delta {

// Compares the table's schemaString with the configured one (both Spark schema JSON).
// Ok(true) when the configured schema only adds nullable columns (or relaxes NOT NULL):
// the table needs a metaData commit; Ok(false) when they are the same. InvalidArgument
// naming the table, the column and the ways out for a change that is not additive.
core::Result<bool> needs_evolution(const std::string& have, const std::string& want,
                                   const std::string& table);

// The metaData line of a commit that gives `metadata_json` (the table's current metaData)
// the schemaString `want`, keeping its id, partition columns and configuration.
std::string evolved_metadata_line(const std::string& metadata_json, const std::string& want);

}  // namespace pinstream::connectors::delta
