#include "connectors/delta/log_store.h"

#include <cstdio>

namespace pinstream::connectors::delta {
namespace {

// Keys of `parent` under `sub_/`, as a store of their own.
class SubStore : public ObjectStore {
 public:
  SubStore(std::shared_ptr<ObjectStore> parent, std::string sub)
      : parent_(std::move(parent)), sub_(std::move(sub) + "/") {}
  std::string describe() const override {
    return parent_->describe() + "/" + sub_.substr(0, sub_.size() - 1);
  }
  core::Result<std::string> get(const std::string& key,
                                std::optional<objstore::ByteRange> range) override {
    return parent_->get(sub_ + key, range);
  }
  core::Result<uint64_t> size(const std::string& key) override { return parent_->size(sub_ + key); }
  core::Status put(const std::string& key, std::string_view data) override {
    return parent_->put(sub_ + key, data);
  }
  core::Status put_file(const std::string& key, const std::string& path) override {
    return parent_->put_file(sub_ + key, path);
  }
  core::Status put_if_absent(const std::string& key, std::string_view data) override {
    return parent_->put_if_absent(sub_ + key, data);
  }
  core::Status remove(const std::string& key) override { return parent_->remove(sub_ + key); }
  core::Status remove_many(const std::vector<std::string>& keys) override {
    std::vector<std::string> full;
    for (const auto& k : keys) full.push_back(sub_ + k);
    return parent_->remove_many(full);
  }
  core::Result<std::vector<objstore::ObjectInfo>> list(const std::string& prefix,
                                                       const std::string& start_after) override {
    PS_ASSIGN_OR_RETURN(
        auto all, parent_->list(sub_ + prefix, start_after.empty() ? "" : sub_ + start_after));
    for (auto& o : all) o.key.erase(0, sub_.size());
    return all;
  }
  core::Result<std::vector<objstore::ObjectInfo>> list_temporaries(
      const std::string& prefix) override {
    PS_ASSIGN_OR_RETURN(auto all, parent_->list_temporaries(sub_ + prefix));
    for (auto& o : all) o.key.erase(0, sub_.size());
    return all;
  }
  core::Status check() override { return parent_->check(); }

 private:
  std::shared_ptr<ObjectStore> parent_;
  std::string sub_;
};

// The version of "<20 digits><suffix>", or -1.
int64_t version_of(const std::string& name, const char* suffix) {
  const std::string s = suffix;
  if (name.size() != 20 + s.size() || name.compare(20, s.size(), s) != 0) return -1;
  if (name.find_first_not_of("0123456789") != 20) return -1;
  return std::stoll(name.substr(0, 20));
}

}  // namespace

std::string commit_key(int64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "_delta_log/%020lld.json", static_cast<long long>(version));
  return buf;
}

std::string checkpoint_key(int64_t version) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "_delta_log/%020lld.checkpoint.parquet",
                static_cast<long long>(version));
  return buf;
}

core::Result<LogListing> list_log(ObjectStore& table) {
  PS_ASSIGN_OR_RETURN(auto objects, table.list(kLogPrefix));
  LogListing out;
  const size_t skip = std::char_traits<char>::length(kLogPrefix);
  for (const auto& o : objects) {
    const std::string name = o.key.substr(skip);
    if (int64_t v = version_of(name, ".json"); v >= 0) out.commits.insert(v);
    if (int64_t v = version_of(name, ".checkpoint.parquet"); v >= 0) out.checkpoints.insert(v);
  }
  return out;
}

std::string data_key(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

core::Result<std::shared_ptr<ObjectStore>> open_location(const std::string& location) {
  PS_ASSIGN_OR_RETURN(auto store, objstore::open_store(location));
  return std::shared_ptr<ObjectStore>(std::move(store));
}

std::shared_ptr<ObjectStore> sub_store(std::shared_ptr<ObjectStore> parent, std::string sub) {
  return std::make_shared<SubStore>(std::move(parent), std::move(sub));
}

}  // namespace pinstream::connectors::delta
