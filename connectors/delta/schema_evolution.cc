#include "connectors/delta/schema_evolution.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "connectors/delta/actions.h"
#include "connectors/delta/table.h"

namespace pinstream::connectors::delta {
using core::Status;
using nlohmann::json;

namespace {

json fields_of(const std::string& schema) {
  json s = json::parse(schema, nullptr, false);
  if (s.is_discarded() || !s.contains("fields") || !s["fields"].is_array()) return json::array();
  return s["fields"];
}

const json* find_field(const json& fields, const std::string& name) {
  for (const auto& f : fields)
    if (f.value("name", "") == name) return &f;
  return nullptr;
}

std::string type_text(const json& f) {
  const json& t = f.contains("type") ? f["type"] : json();
  return t.is_string() ? t.get<std::string>() : t.dump();
}

Status refuse(const std::string& table, const std::string& what) {
  return Status::invalid("table " + table + ": " + what +
                         "; only added nullable columns evolve a table: give the table a new "
                         "name in the configuration, or move it away and rebuild it with "
                         "`pinstream replay --from-checkpoint 0`");
}

}  // namespace

core::Result<bool> needs_evolution(const std::string& have, const std::string& want,
                                   const std::string& table) {
  if (have == want) return false;
  json old_fields = fields_of(have), new_fields = fields_of(want);
  for (const auto& f : old_fields) {
    const std::string name = f.value("name", "");
    const json* n = find_field(new_fields, name);
    if (!n)
      return refuse(table, "column '" + name + "' (" + type_text(f) +
                               ") is no longer configured (a removed column)");
    if (f.value("type", json()) != n->value("type", json()))
      return refuse(table, "column '" + name + "' changes type from " + type_text(f) + " to " +
                               type_text(*n));
    if (f.value("nullable", true) && !n->value("nullable", true))
      return refuse(table, "column '" + name + "' becomes NOT NULL");
  }
  for (const auto& n : new_fields) {
    const std::string name = n.value("name", "");
    if (!find_field(old_fields, name) && !n.value("nullable", true))
      return refuse(table, "added column '" + name + "' is NOT NULL (older files hold no value)");
  }
  return true;
}

std::string evolved_metadata_line(const std::string& metadata_json, const std::string& want) {
  json meta = json::parse(metadata_json, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  meta["schemaString"] = want;
  return json({{"metaData", meta}}).dump();
}

}  // namespace pinstream::connectors::delta

// DeltaTable::evolve_schema lives here to keep table.cc about writing data.
namespace pinstream::connectors::delta {

core::Status DeltaTable::evolve_schema(const std::string& want) {
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) PS_RETURN_IF_ERROR(refresh());
    PS_ASSIGN_OR_RETURN(bool evolve, needs_evolution(snapshot_.schema_string, want, name_));
    if (!evolve) return core::Status::ok();
    std::string text = commit_info_line("ADD COLUMNS", "{}") + "\n" +
                       evolved_metadata_line(snapshot_.metadata_json, want) + "\n";
    const int64_t version = snapshot_.version + 1;
    PS_ASSIGN_OR_RETURN(bool won, try_write(version, text));
    if (won) {
      PS_RETURN_IF_ERROR(apply_own(version, text));
      spdlog::info("Table schema evolved: added columns. table={} version={}", name_, version);
      return core::Status::ok();
    }
  }
  return core::Status::aborted("gave up evolving the schema of " + dir_ + " after " +
                               std::to_string(kMaxCommitAttempts) + " lost races for a version");
}

}  // namespace pinstream::connectors::delta
