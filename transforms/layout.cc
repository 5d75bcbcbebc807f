// Layout bookkeeping and the argument helpers every step builder shares.
#include <utility>

#include "transforms/steps.h"

namespace pinstream::transforms {
using core::ConfigNode;
using core::Result;
using core::Status;

size_t Layout::add(core::Field field) {
  schema_.add(std::move(field));
  slots_.push_back(width_);
  return width_++;
}

Result<size_t> Layout::require(const ConfigNode& where, const std::string& name) const {
  int idx = schema_.index_of(name);
  if (idx < 0)
    return where.error("unknown column '" + name + "' (columns: " + schema_.to_string() + ")");
  if (recording_) read_.push_back(slots_[static_cast<size_t>(idx)]);
  return static_cast<size_t>(idx);
}

Status Layout::require_new(const ConfigNode& where, const std::string& name) const {
  if (name.empty()) return where.error("a column name must not be empty");
  if (schema_.index_of(name) >= 0) return where.error("column '" + name + "' already exists");
  return Status::ok();
}

void Layout::set_field(size_t column, core::Field field) {
  std::vector<core::Field> fields = schema_.fields();
  fields[column] = std::move(field);
  schema_ = core::Schema(std::move(fields));
}

void Layout::rename(size_t column, std::string name) {
  core::Field f = schema_.field(column);
  f.name = std::move(name);
  set_field(column, std::move(f));
}

void Layout::set_type(size_t column, core::Type type) {
  core::Field f = schema_.field(column);
  f.type = type;
  set_field(column, std::move(f));
}

void Layout::project(const std::vector<size_t>& columns) {
  std::vector<core::Field> fields;
  std::vector<size_t> slots;
  for (size_t c : columns) {
    fields.push_back(schema_.field(c));
    slots.push_back(slots_[c]);
  }
  schema_ = core::Schema(std::move(fields));
  slots_ = std::move(slots);
}

Status expect_map(const ConfigNode& args, std::string_view usage) {
  if (!args.is_map()) return args.error("expected a map " + std::string(usage));
  return Status::ok();
}

namespace {
const ConfigNode& at(const ConfigNode& args, std::string_view key) {
  const ConfigNode* node = args.find(key);
  return node ? *node : args;
}
}  // namespace

Result<std::vector<std::string>> names_arg(const ConfigNode& args, std::string_view key) {
  PS_ASSIGN_OR_RETURN(const ConfigNode* node, args.get(key));
  PS_ASSIGN_OR_RETURN(std::vector<std::string> names, node->as_string_list());
  if (names.empty()) return node->error("expected at least one column");
  return names;
}

Result<size_t> resolve_column(const ConfigNode& args, std::string_view key, const std::string& name,
                              const Layout& layout, std::vector<core::Type> types) {
  PS_ASSIGN_OR_RETURN(size_t col, layout.require(at(args, key), name));
  if (types.empty()) return col;
  const core::Field& f = layout.field(col);
  std::string want;
  for (core::Type t : types) {
    if (f.type == t) return col;
    want += std::string(want.empty() ? "" : " or ") + core::type_name(t);
  }
  return at(args, key).error("column '" + f.name + "' is " + core::type_name(f.type) +
                             ", expected " + want);
}

Result<std::vector<size_t>> resolve_columns(const ConfigNode& args, std::string_view key,
                                            const std::vector<std::string>& names,
                                            const Layout& layout) {
  std::vector<size_t> out;
  for (const auto& n : names) {
    PS_ASSIGN_OR_RETURN(size_t col, layout.require(at(args, key), n));
    out.push_back(col);
  }
  return out;
}

Status check_new_column(const ConfigNode& args, std::string_view key, const std::string& name,
                        const Layout& layout) {
  return layout.require_new(at(args, key), name);
}

Status field_error(const std::string& name, const Status& reason) {
  return Status::invalid("field '" + name + "': " + reason.message());
}

}  // namespace pinstream::transforms
