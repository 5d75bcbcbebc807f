#include "stream/tables_owner.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "stream/durable_file.h"

namespace pinstream::runtime {
namespace fs = std::filesystem;

namespace {
std::string canonical(const std::string& p) {
  std::error_code ec;
  return fs::weakly_canonical(fs::absolute(p, ec), ec).string();
}
}  // namespace

std::string tables_owner_id(const std::string& data_dir) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  return canonical(data_dir) + " on " + host;
}

core::Status claim_tables_root(const std::string& tables_root, const std::string& data_dir) {
  if (tables_root.rfind("s3://", 0) == 0) return core::Status::ok();
  std::error_code ec;
  fs::create_directories(tables_root, ec);
  if (ec) return core::Status::io("cannot create tables root " + tables_root + ": " + ec.message());
  const std::string path = tables_root + "/" + kTablesOwnerFile;
  const std::string me = tables_owner_id(data_dir);
  // A tables root inside the data dir (the default layout) belongs to that data dir, even
  // after the directory was moved or copied: no other data dir holds it.
  const std::string dd = canonical(data_dir), tr = canonical(tables_root);
  const bool inside =
      tr.size() > dd.size() && tr.compare(0, dd.size(), dd) == 0 && tr[dd.size()] == '/';
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::ifstream in(path);
    if (in) {
      std::string owner((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
      if (owner == me) return core::Status::ok();
      if (inside) return write_file_durably(path, me + "\n");
      if (!owner.empty())
        return core::Status::exists("tables root " + tables_root +
                                    " is owned by the pipeline writer with data directory " +
                                    owner + " (" + path +
                                    "); one writer per tables root: use another tables root, or "
                                    "once that writer is gone for good delete " +
                                    path + " to take over");
    }
    // Put-if-absent: written beside, then linked into place only if no owner exists yet.
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
      // Not fsynced: an owner file lost or emptied by a power cut is simply claimed again.
      std::ofstream out(tmp, std::ios::trunc);
      out << me << "\n";
      if (!out.flush()) return core::Status::io("cannot write " + tmp);
    }
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) return core::Status::ok();
    if (err != EEXIST) return core::Status::io("cannot create " + path + ": " + std::strerror(err));
    // An empty file (a claim cut short) is taken over; another owner is read again above.
    if (fs::file_size(path, ec) == 0 && !ec) fs::remove(path, ec);
  }
  return core::Status::io("cannot claim tables root " + tables_root + " (" + path +
                          " keeps changing)");
}

}  // namespace pinstream::runtime
