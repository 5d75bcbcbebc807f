#include "transforms/cleaner.h"

#include <utility>

#include "transforms/json_decoder.h"

namespace pinstream::transforms {
using core::Result;
using core::Status;

Cleaner::~Cleaner() = default;

Result<std::unique_ptr<Cleaner>> Cleaner::build(const core::ConfigNode& input,
                                                const core::ConfigNode* steps,
                                                const std::string& key, size_t max_record_bytes,
                                                bool rescue) {
  if (!input.is_map() || input.entries().empty())
    return input.error("expected a map of raw field -> type");
  std::unique_ptr<Cleaner> c(new Cleaner());
  for (const auto& [name, type_node] : input.entries()) {
    (void)input.find(name);  // marks the key used
    PS_ASSIGN_OR_RETURN(std::string type_name, type_node.as_string());
    core::Type t = core::type_from_name(type_name);
    if (t == core::Type::kNull || t == core::Type::kDoubleArray)
      return type_node.error("unknown input type '" + type_name +
                             "' (long, double, string, bool, timestamp, any)");
    c->layout_.add({name, t, true});
  }
  c->input_size_ = c->layout_.size();
  c->decoder_ = std::make_unique<JsonDecoder>(c->layout_.schema(), max_record_bytes, rescue);
  PS_ASSIGN_OR_RETURN(c->steps_, build_steps(steps, c->layout_));
  if (rescue) {  // after the steps: none of them can drop or change it
    PS_RETURN_IF_ERROR(c->layout_.require_new(input, kRescuedColumn));
    c->rescue_slot_ = c->layout_.add({kRescuedColumn, core::Type::kString, true});
  }

  c->key_ = key;
  c->key_index_ = c->layout_.schema().index_of(key);
  if (c->key_index_ < 0)
    return input.error("key column '" + key + "' is not among the cleaned columns (" +
                       c->layout_.schema().to_string() + ")");
  auto k = static_cast<size_t>(c->key_index_);
  if (c->layout_.field(k).type != core::Type::kLong)
    return input.error("key column '" + key + "' must be long, it is " +
                       core::type_name(c->layout_.field(k).type));
  c->work_.resize(c->layout_.width());
  return c;
}

Status Cleaner::clean(std::string_view raw, core::Row& out) {
  PS_RETURN_IF_ERROR(decoder_->decode(raw, work_));
  for (const auto& step : steps_) PS_RETURN_IF_ERROR(step->apply(work_));
  const size_t key_slot = layout_.slot(static_cast<size_t>(key_index_));
  if (work_[key_slot].type != core::Type::kLong) {
    bool missing = key_slot < input_size_ && !decoder_->present(key_slot);
    return Status::invalid("key '" + key_ + "' is " + (missing ? "missing" : "null"));
  }
  if (rescue_slot_ > 0) {
    if (decoder_->rescued().empty())
      work_[rescue_slot_].set_null();
    else
      work_[rescue_slot_].set_string(decoder_->rescued());
  }
  // Swapping (not copying) keeps every cell's capacity circulating between `out` and the
  // work row, so strings are not reallocated per record.
  const std::vector<size_t>& slots = layout_.slots();
  out.resize(slots.size());
  for (size_t k = 0; k < slots.size(); ++k) swap(out[k], work_[slots[k]]);
  return Status::ok();
}

Result<StepChain> StepChain::build(const core::ConfigNode* steps, const core::Schema& input) {
  StepChain chain;
  for (const auto& f : input.fields()) chain.layout_.add(f);
  chain.input_width_ = input.size();
  chain.layout_.record_reads(true);
  PS_ASSIGN_OR_RETURN(auto built, build_steps(steps, chain.layout_));
  chain.layout_.record_reads(false);
  for (auto& s : built) chain.steps_.push_back(std::move(s));
  // Simulate moving output column k's slot to position k, recording the swaps.
  const size_t width = chain.layout_.width();
  std::vector<size_t> at(width), where(width);  // position -> slot, slot -> position
  for (size_t i = 0; i < width; ++i) at[i] = where[i] = i;
  const std::vector<size_t>& slots = chain.layout_.slots();
  for (size_t k = 0; k < slots.size(); ++k) {
    size_t p = where[slots[k]];
    if (p == k) continue;
    chain.swaps_.emplace_back(k, p);
    size_t displaced = at[k];
    at[k] = slots[k];
    at[p] = displaced;
    where[slots[k]] = k;
    where[displaced] = p;
  }
  return chain;
}

std::vector<bool> StepChain::inputs_needed(const std::vector<size_t>& used_outputs) const {
  // Input column i lives in slot i; steps' new columns come after.
  std::vector<bool> need(input_width_, false);
  for (size_t slot : layout_.reads())
    if (slot < input_width_) need[slot] = true;
  for (size_t out : used_outputs) {
    size_t slot = layout_.slots()[out];
    if (slot < input_width_) need[slot] = true;
  }
  return need;
}

Status StepChain::apply(core::Row& row) const {
  if (row.size() < layout_.width()) row.resize(layout_.width());
  for (const auto& step : steps_) PS_RETURN_IF_ERROR(step->apply(row));
  for (const auto& [a, b] : swaps_) swap(row[a], row[b]);
  row.resize(layout_.size());
  return Status::ok();
}

}  // namespace pinstream::transforms
