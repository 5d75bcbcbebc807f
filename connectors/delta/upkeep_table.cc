// DeltaTable members used by table upkeep (optimize.cc, vacuum.cc): opening a table from
// its own log, and commits that first check the latest snapshot for conflicts.
#include <nlohmann/json.hpp>

#include "connectors/delta/log_store.h"
#include "connectors/delta/protocol.h"
#include "connectors/delta/table.h"

namespace pinstream::connectors::delta {
using core::Status;
using nlohmann::json;

namespace {
// The inverse of schema_string() for the types pinstream writes.
core::Result<core::Schema> parse_schema_string(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("fields"))
    return Status::corruption("table " + where + " has an unreadable schemaString");
  core::Schema out;
  for (const auto& f : j["fields"]) {
    core::Field field;
    field.name = f.value("name", "");
    field.nullable = f.value("nullable", true);
    const json& t = f["type"];
    if (t.is_object()) {
      if (t.value("type", "") != "array" || t.value("elementType", "") != "double")
        return Status::invalid("table " + where + " has column '" + field.name +
                               "' of a type pinstream does not write: " + t.dump());
      field.type = core::Type::kDoubleArray;
    } else {
      std::string name = t.get<std::string>();
      field.type = core::type_from_name(name);
      if (field.type == core::Type::kNull || field.type == core::Type::kAny)
        return Status::invalid("table " + where + " has column '" + field.name +
                               "' of a type pinstream does not write: " + name);
    }
    out.add(std::move(field));
  }
  return out;
}
}  // namespace

core::Result<std::unique_ptr<DeltaTable>> DeltaTable::open_existing(
    std::shared_ptr<objstore::ObjectStore> store, const std::string& location,
    const std::string& name, TableOptions opts) {
  std::unique_ptr<DeltaTable> probe(new DeltaTable());
  probe->store_ = store;
  probe->dir_ = location;
  probe->name_ = name;
  PS_RETURN_IF_ERROR(probe->refresh());
  if (probe->snapshot_.version < 0) return Status::not_found("no Delta table at " + location);
  PS_ASSIGN_OR_RETURN(core::Schema schema,
                      parse_schema_string(probe->snapshot_.schema_string, location));
  json meta = json::parse(probe->snapshot_.metadata_json, nullptr, false);
  if (!meta.is_discarded())
    opts.partition_columns = meta.value("partitionColumns", std::vector<std::string>());
  return open_read(std::move(probe), std::move(store), location, name, schema, std::move(opts));
}

core::Result<const Snapshot*> DeltaTable::latest_snapshot() {
  PS_RETURN_IF_ERROR(refresh());
  return &snapshot_;
}

core::Result<std::optional<int64_t>> DeltaTable::commit_checked(
    const std::string& actions, const std::function<bool(const Snapshot&)>& valid) {
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    PS_RETURN_IF_ERROR(refresh());
    PS_RETURN_IF_ERROR(check_writable(snapshot_, dir_, WriteKind::kRestore));
    if (!valid(snapshot_)) return std::optional<int64_t>();
    int64_t next = snapshot_.version + 1;
    PS_ASSIGN_OR_RETURN(bool won, try_write(next, actions));
    if (won) {
      PS_RETURN_IF_ERROR(apply_own(next, actions));
      maybe_checkpoint(next);
      return std::optional<int64_t>(next);
    }
  }
  return Status::aborted("gave up committing to " + dir_ + " after " +
                         std::to_string(kMaxCommitAttempts) + " lost races for a version");
}

}  // namespace pinstream::connectors::delta
