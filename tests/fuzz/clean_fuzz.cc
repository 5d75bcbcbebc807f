// Fuzzes decode + clean: any bytes go through the default pipeline's three Cleaners (and
// one with a small size limit). Besides crashes and sanitizer reports, it checks what a
// clean row promises: output width, a non-null long key, every cell null or of its
// column's type, and a non-empty reason on failure.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transforms/cleaner.h"

namespace {
using pinstream::core::Type;
using pinstream::transforms::Cleaner;

std::vector<std::unique_ptr<Cleaner>> build_cleaners() {
  auto root = pinstream::core::load_config_file(std::string(PINSTREAM_SOURCE_DIR) +
                                                "/examples/pinterest/pipeline.yaml");
  if (!root) {
    std::fprintf(stderr, "%s\n", root.error().message().c_str());
    std::abort();
  }
  std::vector<std::unique_ptr<Cleaner>> out;
  for (const char* stream : {"pin", "geo", "user", "user"}) {
    const pinstream::core::ConfigNode* s = root->find("streams")->find(stream);
    size_t limit = out.size() == 3 ? 64 : 1 << 20;  // the last one exercises the size limit
    auto c = Cleaner::build(*s->find("input"), s->find("steps"), "ind", limit);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.error().message().c_str());
      std::abort();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<std::unique_ptr<Cleaner>> cleaners = build_cleaners();
  static pinstream::core::Row row;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (auto& cleaner : cleaners) {
    pinstream::core::Status st = cleaner->clean(raw, row);
    if (!st.is_ok()) {
      check(!st.message().empty(), "a dead letter has a reason");
      continue;
    }
    const auto& schema = cleaner->output_schema();
    check(row.size() == schema.size(), "row width equals the output schema");
    const auto& key = row[static_cast<size_t>(cleaner->key_index())];
    check(key.type == Type::kLong, "the key is a non-null long");
    for (size_t i = 0; i < row.size(); ++i) {
      Type want = schema.field(i).type;
      check(row[i].is_null() || want == Type::kAny || row[i].type == want,
            "cells have their column's type");
    }
  }
  return 0;
}
