// Cleaner: decode (simdjson on-demand) + the configured steps + key check, compiled once
// per stream, turning raw bytes into a typed Row or a dead-letter reason. StepChain: the
// same steps over already-typed rows (the join's `derive:` list).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/config.h"
#include "stream/core/schema.h"
#include "stream/core/status.h"
#include "transforms/transform.h"

namespace pinstream::transforms {

class JsonDecoder;

inline constexpr const char* kRescuedColumn = "_rescued_data";

class Cleaner {
 public:
  // input: the stream's `input:` map (raw field -> long, double, string, bool, timestamp,
  // any); steps: the `steps:` list (may be null); key: the column that must be a non-null
  // long after the steps. Config errors: InvalidArgument "file:line:col: key '...': ...".
  // rescue: the output gets a last column `_rescued_data` (string, null when nothing was
  // unexpected) holding the raw fields not in `input` as a JSON object.
  static core::Result<std::unique_ptr<Cleaner>> build(const core::ConfigNode& input,
                                                      const core::ConfigNode* steps,
                                                      const std::string& key,
                                                      size_t max_record_bytes, bool rescue = false);
  ~Cleaner();
  Cleaner(const Cleaner&) = delete;
  Cleaner& operator=(const Cleaner&) = delete;

  const core::Schema& output_schema() const { return layout_.schema(); }
  int key_index() const { return key_index_; }

  // Decodes and cleans one raw record into `out` (resized to output_schema().size()).
  // Failure: InvalidArgument whose message is the dead-letter reason, e.g.
  // `field 'age': "twenty" is not an integer`, "invalid JSON: ...", "not a JSON object",
  // "key 'ind' is missing", "invalid UTF-8". Reuse `out` across calls: its cells keep their
  // capacity, so a warmed-up Cleaner does not allocate. Not thread-safe: one per thread.
  core::Status clean(std::string_view raw, core::Row& out);

 private:
  Cleaner() = default;
  std::unique_ptr<JsonDecoder> decoder_;
  std::vector<std::unique_ptr<Transform>> steps_;
  Layout layout_;
  size_t input_size_ = 0;
  std::string key_;
  int key_index_ = -1;
  size_t rescue_slot_ = 0;  // 0: no rescue (slot 0 is always an input field)
  core::Row work_;          // the wide row the steps run on
};

class StepChain {
 public:
  // Builds `steps` (null: no steps) against rows of `input`. Config errors as Cleaner::build.
  static core::Result<StepChain> build(const core::ConfigNode* steps, const core::Schema& input);
  const core::Schema& output_schema() const { return layout_.schema(); }
  // `row`, in input schema order, becomes output schema order. Failure: InvalidArgument
  // with a per-record reason. Thread-safe (const, no shared scratch).
  core::Status apply(core::Row& row) const;
  // The input columns apply() may read or pass to the output, given the output columns
  // that are used (indexes into output_schema()). Conservative: every column a step
  // looked up while being built counts as read.
  std::vector<bool> inputs_needed(const std::vector<size_t>& used_outputs) const;

 private:
  std::vector<std::shared_ptr<const Transform>> steps_;
  size_t input_width_ = 0;
  Layout layout_;
  // Swaps that move the output slots to the front of the wide row, in output order.
  std::vector<std::pair<size_t, size_t>> swaps_;
};

}  // namespace pinstream::transforms
