#include "connectors/files/object_input.h"

#include <algorithm>
#include <cstring>

namespace pinstream::connectors::files {

ObjectInput::ObjectInput(std::shared_ptr<objstore::ObjectStore> store, std::string key,
                         uint64_t size, uint64_t chunk_bytes)
    : store_(std::move(store)),
      key_(std::move(key)),
      size_(size),
      chunk_bytes_(std::max<uint64_t>(1, chunk_bytes)) {}

core::Result<size_t> ObjectInput::read(char* buf, size_t n) {
  if (used_ == chunk_.size()) {
    if (next_ >= size_) return size_t{0};
    objstore::ByteRange range{next_, std::min(chunk_bytes_, size_ - next_)};
    PS_ASSIGN_OR_RETURN(chunk_, store_->get(key_, range));
    used_ = 0;
    // Shorter than listed: the object was replaced by a smaller one; its end is here.
    if (chunk_.empty()) {
      size_ = next_;
      return size_t{0};
    }
    next_ += chunk_.size();
  }
  size_t take = std::min(n, chunk_.size() - used_);
  std::memcpy(buf, chunk_.data() + used_, take);
  used_ += take;
  return take;
}

}  // namespace pinstream::connectors::files
