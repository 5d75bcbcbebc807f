#include <cstdlib>
#include <fstream>
#include <sstream>

#include "connectors/objstore/local_store.h"
#include "connectors/objstore/object_store.h"
#include "connectors/objstore/s3_store.h"

namespace pinstream::connectors::objstore {

bool is_remote_url(const std::string& url) { return url.rfind("s3://", 0) == 0; }

core::Status ObjectStore::put_file(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  if (in) data << in.rdbuf();
  if (!in || in.bad()) return core::Status::io("cannot read " + path + " to store it as " + key);
  return put(key, data.view());
}

core::Result<std::unique_ptr<ObjectStore>> open_store(const std::string& url,
                                                      const StoreOptions& options) {
  if (url.empty())
    return core::Status::invalid("empty store location: give a path or s3://bucket/prefix");
  if (url.rfind("file://", 0) == 0) return make_local_store(url.substr(7));
  if (!is_remote_url(url)) {
    if (url.find("://") != std::string::npos) {
      return core::Status::invalid("unsupported store URL " + url +
                                   ": use a local path or s3://bucket/prefix");
    }
    return make_local_store(url);
  }
  PS_ASSIGN_OR_RETURN(S3Location loc, parse_s3_url(url));
  S3ClientConfig config;
  config.bucket = loc.bucket;
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      config.endpoint = v;
      break;
    }
  }
  return make_s3_store(std::move(config), loc.prefix, options);
}

}  // namespace pinstream::connectors::objstore
