#include "connectors/delta/protocol.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace pinstream::connectors::delta {
using core::Status;
using nlohmann::json;

namespace {

// Highest protocol versions whose rules pinstream knows (3/7: table features).
constexpr int kMaxReaderVersion = 3;
constexpr int kMaxWriterVersion = 7;

// Table features an appending writer honours by doing nothing more than pinstream does,
// provided the table does not use them (checked below for those marked "when unused").
const std::set<std::string>& writable_features() {
  static const std::set<std::string> k = {
      "appendOnly",        // appends are allowed; RESTORE is refused below
      "invariants",        // when unused: no column carries delta.invariants
      "checkConstraints",  // when unused: no delta.constraints.* property
      "changeDataFeed",    // appends need no CDC files
      "generatedColumns",  // when unused: no delta.generationExpression
      "columnMapping",     // when unused: delta.columnMapping.mode is none
      "identityColumns",   // when unused: no delta.identity.*
  };
  return k;
}
const std::set<std::string>& readable_features() {
  static const std::set<std::string> k = {"columnMapping"};  // when unused, as above
  return k;
}

// Metadata keys of every field of a Spark schemaString, recursively (struct, array, map).
void metadata_keys(const json& type, std::set<std::string>& out) {
  if (!type.is_object()) return;
  if (type.contains("fields") && type["fields"].is_array()) {
    for (const auto& f : type["fields"]) {
      if (f.contains("metadata") && f["metadata"].is_object())
        for (const auto& [k, v] : f["metadata"].items()) out.insert(k);
      if (f.contains("type")) metadata_keys(f["type"], out);
    }
  }
  for (const char* inner : {"elementType", "keyType", "valueType"})
    if (type.contains(inner)) metadata_keys(type[inner], out);
}

// What of the table's schema and properties binds a writer beyond plain appends.
std::vector<std::string> binding_uses(const Snapshot& snap) {
  std::vector<std::string> uses;
  json meta = json::parse(snap.metadata_json, nullptr, false);
  json conf = meta.is_object() ? meta.value("configuration", json::object()) : json::object();
  if (!conf.is_object()) conf = json::object();
  for (const auto& [k, v] : conf.items()) {
    std::string val = v.is_string() ? v.get<std::string>() : v.dump();
    std::string low = val;
    std::transform(low.begin(), low.end(), low.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (k.rfind("delta.constraints.", 0) == 0) uses.push_back("CHECK constraint " + k);
    if (k == "delta.columnMapping.mode" && low != "none")
      uses.push_back("column mapping mode " + val);
    if (k == "delta.enableDeletionVectors" && low == "true")
      uses.push_back("delta.enableDeletionVectors");
    if (k == "delta.enableRowTracking" && low == "true") uses.push_back("delta.enableRowTracking");
    if (k == "delta.checkpointPolicy" && low != "classic")
      uses.push_back("delta.checkpointPolicy=" + val);
  }
  std::set<std::string> keys;
  metadata_keys(json::parse(snap.schema_string, nullptr, false), keys);
  for (const auto& k : keys) {
    if (k == "delta.invariants") uses.push_back("column invariants");
    if (k == "delta.generationExpression") uses.push_back("generated columns");
    if (k.rfind("delta.identity.", 0) == 0) uses.push_back("identity columns");
    if (k.rfind("delta.columnMapping.", 0) == 0) uses.push_back("column mapping");
  }
  std::sort(uses.begin(), uses.end());
  uses.erase(std::unique(uses.begin(), uses.end()), uses.end());
  return uses;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool is_append_only(const Snapshot& snap) {
  json meta = json::parse(snap.metadata_json, nullptr, false);
  if (!meta.is_object() || !meta.contains("configuration") || !meta["configuration"].is_object())
    return false;
  auto it = meta["configuration"].find("delta.appendOnly");
  return it != meta["configuration"].end() && it->is_string() && it->get<std::string>() == "true";
}

}  // namespace

Status check_writable(const Snapshot& snap, const std::string& table, WriteKind kind) {
  std::string proto = "protocol minReaderVersion " + std::to_string(snap.min_reader) +
                      ", minWriterVersion " + std::to_string(snap.min_writer);
  std::vector<std::string> missing;
  if (snap.min_reader > kMaxReaderVersion)
    missing.push_back("reader version " + std::to_string(snap.min_reader));
  if (snap.min_writer > kMaxWriterVersion)
    missing.push_back("writer version " + std::to_string(snap.min_writer));
  for (const auto& f : snap.reader_features)
    if (!readable_features().count(f)) missing.push_back("readerFeatures " + f);
  for (const auto& f : snap.writer_features)
    if (!writable_features().count(f)) missing.push_back("writerFeatures " + f);
  for (const auto& u : binding_uses(snap)) missing.push_back(u);
  if (kind == WriteKind::kRestore && is_append_only(snap))
    missing.push_back("delta.appendOnly (RESTORE removes files)");
  if (missing.empty()) return Status::ok();
  return Status::invalid("table " + table + " (" + proto +
                         ") needs what pinstream does not implement: " + join(missing) +
                         "; pinstream refuses to write it: give the pipeline's table another " +
                         "name or tables root, or recreate the table without these features");
}

}  // namespace pinstream::connectors::delta
