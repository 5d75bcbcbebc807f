// libFuzzer target for the configuration loader: any bytes as a YAML file must give a tree
// or an InvalidArgument error naming the file, never a crash, a stack overflow or an
// allocation past the fuzzer's RSS limit (aliases, nesting and size are bounded).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "stream/core/config.h"

namespace {

size_t count_nodes(const pinstream::core::ConfigNode& n) {
  size_t total = 1;
  for (const auto& kv : n.entries()) total += count_nodes(kv.second);
  for (const auto& item : n.items()) total += count_nodes(item);
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto root = pinstream::core::parse_config_text(text, "fuzz.yaml");
  if (!root) {
    const auto& st = root.error();
    if (st.code() != pinstream::core::StatusCode::kInvalidArgument) std::abort();
    if (st.message().rfind("fuzz.yaml:", 0) != 0) std::abort();
    return 0;
  }
  if (count_nodes(*root) > pinstream::core::kMaxConfigNodes) std::abort();
  (void)root->reject_unknown_keys();
  return 0;
}
