#include "stream/core/schema.h"

namespace pinstream::core {

int Schema::index_of(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Schema::to_string() const {
  std::string out;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) out += ", ";
    out += fields_[i].name;
    out += ':';
    out += type_name(fields_[i].type);
  }
  return out;
}

}  // namespace pinstream::core
