#include "stream/delta_table_sink.h"

#include "stream/core/time.h"

namespace pinstream::runtime {
using connectors::delta::AddFile;

core::Result<TableSink::Committed> DeltaTableSink::commit(const std::vector<std::string>& adds_json,
                                                          const std::vector<std::string>& app_ids,
                                                          int64_t txn_version) {
  std::vector<AddFile> adds;
  for (const auto& j : adds_json) {
    PS_ASSIGN_OR_RETURN(auto a, AddFile::from_json(j));
    adds.push_back(std::move(a));
  }
  PS_ASSIGN_OR_RETURN(auto outcome, table_.commit(adds, app_ids, txn_version));
  return Committed{outcome.version, outcome.skipped};
}

core::Result<std::vector<std::string>> DeltaStagedFiles::finish() {
  const int64_t cpu0 = core::thread_cpu_micros();
  auto adds = writer_->finish();
  if (encode_cpu_us_) *encode_cpu_us_ += core::thread_cpu_micros() - cpu0;
  if (!adds) return adds.error();
  std::vector<std::string> out;
  for (const auto& a : *adds) out.push_back(a.to_json());
  return out;
}

}  // namespace pinstream::runtime
