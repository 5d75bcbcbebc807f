// Per-task key prefixes (SPEC section 9): task 0 keeps the unprefixed keys every state
// written before tasks had state of their own uses; task p > 0 puts "t<p>/" (decimal) before
// each of its keys ("d/", "D/", "j/", "jc/", "a/", "h/", "w/"). `meta/` stays global.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinstream::state {

inline std::string task_prefix(int32_t task) {
  return task <= 0 ? std::string() : "t" + std::to_string(task) + "/";
}

// The task of a key written under a task prefix ("t<p>/..."): p; nullopt for anything else.
inline std::optional<int32_t> task_of_key(std::string_view key) {
  if (key.size() < 3 || key[0] != 't') return std::nullopt;
  int64_t p = 0;
  size_t i = 1;
  for (; i < key.size() && key[i] >= '0' && key[i] <= '9' && i < 11; ++i)
    p = p * 10 + (key[i] - '0');
  if (i == 1 || i >= key.size() || key[i] != '/' || p <= 0 || p > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(p);
}

}  // namespace pinstream::state
