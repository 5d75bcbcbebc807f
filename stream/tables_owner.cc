#include "stream/tables_owner.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace pinstream::runtime {
namespace fs = std::filesystem;
namespace objstore = connectors::objstore;

namespace {
std::string canonical(const std::string& p) {
  std::error_code ec;
  return fs::weakly_canonical(fs::absolute(p, ec), ec).string();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

core::Result<std::shared_ptr<objstore::ObjectStore>> open_tables_root(
    const std::string& tables_root) {
  auto store = objstore::open_store(tables_root);
  if (!store) return core::Status(store.error().code(), "tables root: " + store.error().message());
  core::Status st = (*store)->check();
  if (!st.is_ok())
    return core::Status(st.code(),
                        "tables root " + tables_root + " is not usable: " + st.message());
  return std::shared_ptr<objstore::ObjectStore>(std::move(*store));
}

std::string tables_owner_id(const std::string& data_dir) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  return canonical(data_dir) + " on " + host;
}

std::string shared_tables_owner(const std::string& pipeline_id) {
  return "the members of pipeline " + pipeline_id + " (tasks: partitions)";
}

core::Status claim_tables_root(objstore::ObjectStore& tables, const std::string& tables_root,
                               const std::string& data_dir, const std::string& shared_by) {
  const std::string where = tables.describe() + "/" + kTablesOwnerFile;
  const std::string single = tables_owner_id(data_dir);
  const std::string me = shared_by.empty() ? single : shared_tables_owner(shared_by);
  // A local tables root inside the data dir (the default layout) belongs to that data dir,
  // even after the directory was moved or copied: no other data dir holds it.
  const std::string dd = canonical(data_dir), tr = canonical(tables_root);
  const bool inside = !objstore::is_remote_url(tables_root) && tr.size() > dd.size() &&
                      tr.compare(0, dd.size(), dd) == 0 && tr[dd.size()] == '/';
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto have = tables.get(kTablesOwnerFile);
    if (!have && have.error().code() != core::StatusCode::kNotFound) return have.error();
    if (have) {
      const std::string owner = trimmed(*have);
      if (owner == me) return core::Status::ok();
      if (inside || owner == single) return tables.put(kTablesOwnerFile, me + "\n");
      if (owner.rfind("the members of ", 0) == 0)
        return core::Status::exists(
            "tables root " + tables_root + " is shared by " + owner + " (" + where +
            "); a single-task writer would skip their commits: run with pipeline.tasks: "
            "partitions in the same pipeline, or once every member is gone for good delete " +
            where + " to take over");
      if (!owner.empty())
        return core::Status::exists("tables root " + tables_root +
                                    " is owned by the pipeline writer with data directory " +
                                    owner + " (" + where +
                                    "); one writer per tables root: use another tables root, or "
                                    "once that writer is gone for good delete " +
                                    where + " to take over");
      // An empty owner (a claim cut short) is taken over.
      PS_RETURN_IF_ERROR(tables.remove(kTablesOwnerFile));
    }
    core::Status st = tables.put_if_absent(kTablesOwnerFile, me + "\n");
    if (st.is_ok()) return st;
    if (st.code() != core::StatusCode::kAlreadyExists) return st;
    // Another writer claimed it meanwhile: read it again above.
  }
  return core::Status::io("cannot claim tables root " + tables_root + " (" + where +
                          " keeps changing)");
}

core::Status claim_tables_root(const std::string& tables_root, const std::string& data_dir,
                               const std::string& shared_by) {
  PS_ASSIGN_OR_RETURN(auto tables, open_tables_root(tables_root));
  return claim_tables_root(*tables, tables_root, data_dir, shared_by);
}

}  // namespace pinstream::runtime
