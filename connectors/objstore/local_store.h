// The local-disk ObjectStore: keys are files under a root directory. Writes go to a
// temporary file in the target's directory, are fsync'ed, then renamed (put) or linked
// (put_if_absent: link() fails with EEXIST when the name is taken, atomically), and the
// directory is fsync'ed so the name survives a crash.
#pragma once

#include <memory>
#include <string>

#include "connectors/objstore/object_store.h"

namespace pinstream::connectors::objstore {

std::unique_ptr<ObjectStore> make_local_store(const std::string& root);

}  // namespace pinstream::connectors::objstore
