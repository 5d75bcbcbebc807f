// Reads one object of a store (an S3 object) as a byte stream for LineReader, in ranged
// GETs of a bounded chunk, so that a large object is never held whole in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "connectors/files/line_reader.h"
#include "connectors/objstore/object_store.h"

namespace pinstream::connectors::files {

// Bytes asked per ranged GET: large enough that request latency does not dominate, small
// enough to hold one per partition. Default: 4 MiB.
inline constexpr uint64_t kObjectChunkBytes = 4ull << 20;

class ObjectInput final : public ByteInput {
 public:
  // Reads the first `size` bytes of `key` (its size when listed: objects are written
  // whole, never appended to).
  ObjectInput(std::shared_ptr<objstore::ObjectStore> store, std::string key, uint64_t size,
              uint64_t chunk_bytes = kObjectChunkBytes);
  // The store's error (NotFound when the object is gone, Unavailable after its retries).
  core::Result<size_t> read(char* buf, size_t n) override;

 private:
  std::shared_ptr<objstore::ObjectStore> store_;
  std::string key_;
  uint64_t size_;
  uint64_t chunk_bytes_;
  uint64_t next_ = 0;  // offset of the next GET
  std::string chunk_;  // the last GET's bytes
  size_t used_ = 0;    // of chunk_, handed out
};

}  // namespace pinstream::connectors::files
