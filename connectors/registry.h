// Explicit registration of connector kinds: one line per connector in registry.cc.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "connectors/source.h"

namespace pinstream::connectors {

class Registry {
 public:
  void add_source(std::string kind, SourceFactory factory) { sources_[std::move(kind)] = factory; }
  // Returns nullptr when `kind` is unknown.
  SourceFactory source(const std::string& kind) const {
    auto it = sources_.find(kind);
    return it == sources_.end() ? nullptr : it->second;
  }
  std::vector<std::string> source_kinds() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : sources_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, SourceFactory> sources_;
};

// Registers every built-in connector.
void register_builtin(Registry& registry);

}  // namespace pinstream::connectors
