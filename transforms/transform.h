// Cleaning steps. Each step kind is configured from one YAML map, validated against the
// columns it will see (its Layout), and compiled into a small Transform that works on
// column slots resolved at build time: apply() never looks a name up.
// Rows inside a chain are "wide": every column that ever exists in the chain has its own
// slot, and slots are never reused, so rename/drop/select only change the Layout and
// derived columns write into a fresh slot. The Cleaner/StepChain moves the visible slots
// into output order at the end.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stream/core/config.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::transforms {

// The visible columns at one point of a step chain, and the slot of the wide row each
// lives in.
class Layout {
 public:
  const core::Schema& schema() const { return schema_; }
  size_t size() const { return schema_.size(); }
  // Number of slots a work row needs for every step so far.
  size_t width() const { return width_; }
  const core::Field& field(size_t column) const { return schema_.field(column); }
  size_t slot(size_t column) const {
    if (recording_) read_.push_back(slots_[column]);
    return slots_[column];
  }
  const std::vector<size_t>& slots() const { return slots_; }

  // Appends a visible column in a new slot; returns that slot.
  size_t add(core::Field field);
  // Index of visible column `name`; InvalidArgument at `where` listing the columns.
  core::Result<size_t> require(const core::ConfigNode& where, const std::string& name) const;
  // InvalidArgument at `where` when `name` is already a visible column.
  core::Status require_new(const core::ConfigNode& where, const std::string& name) const;
  void rename(size_t column, std::string name);
  void set_type(size_t column, core::Type type);
  // Keeps only `columns` (visible indexes), in that order.
  void project(const std::vector<size_t>& columns);
  // While recording, every slot a step builder looks up (slot(), require()) is noted: the
  // slots its steps may read. Off by default (cleaners look slots up per record).
  void record_reads(bool on) { recording_ = on; }
  const std::vector<size_t>& reads() const { return read_; }

 private:
  void set_field(size_t column, core::Field field);
  core::Schema schema_;
  std::vector<size_t> slots_;
  size_t width_ = 0;
  bool recording_ = false;
  mutable std::vector<size_t> read_;
};

// The runtime half of a step: per record, no I/O, no state, safe to call from several
// threads at once (const). `row` is the wide work row, indexed by slot.
class Transform {
 public:
  virtual ~Transform() = default;
  // InvalidArgument with a per-record reason ("field 'x': ...") sends the record to the
  // dead letters.
  virtual core::Status apply(core::Row& row) const = 0;
};

// Builds one step from its YAML arguments (rejecting unknown keys) and updates `layout` to
// the step's output. A step that only changes the layout returns a null Transform.
using StepBuilder = core::Result<std::unique_ptr<Transform>> (*)(const core::ConfigNode& args,
                                                                 Layout& layout);

class Registry {
 public:
  void add(std::string kind, StepBuilder builder) { builders_[std::move(kind)] = builder; }
  // nullptr when `kind` is unknown.
  StepBuilder find(const std::string& kind) const;
  // "bucket, cast, ..." for error messages.
  std::string kinds() const;

 private:
  std::map<std::string, StepBuilder> builders_;
};

// Registers every built-in step kind (one line each in registry.cc).
void register_builtin(Registry& registry);
// The registry with the built-in kinds; built once, read-only afterwards.
const Registry& builtin_registry();

// Builds a `steps:` list (each item a one-key map `kind: args`; null or absent = no steps)
// against `layout`. Errors: InvalidArgument "file:line:col: key '...': ...".
core::Result<std::vector<std::unique_ptr<Transform>>> build_steps(const core::ConfigNode* steps,
                                                                  Layout& layout);

}  // namespace pinstream::transforms
