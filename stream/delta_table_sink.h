// The epoch committer's view of a Delta table (table_sink.h): DeltaTableSink commits add
// actions with txn through a DeltaTable, DeltaStagedFiles finishes a TableWriter's files.
#pragma once

#include <atomic>
#include <memory>

#include "connectors/delta/table.h"
#include "stream/table_sink.h"

namespace pinstream::runtime {

// Over a DeltaTable the caller owns and keeps alive.
class DeltaTableSink final : public TableSink {
 public:
  explicit DeltaTableSink(connectors::delta::DeltaTable& table) : table_(table) {}
  core::Result<Committed> commit(const std::vector<std::string>& adds_json,
                                 const std::vector<std::string>& app_ids,
                                 int64_t txn_version) override;
  std::optional<int64_t> known_txn_version(const std::string& app_id) const override {
    return table_.known_txn_version(app_id);
  }
  core::Result<std::optional<int64_t>> txn_version(const std::string& app_id) override {
    return table_.txn_version(app_id);
  }
  core::Result<int64_t> latest_version() override { return table_.latest_version(); }
  int64_t known_version() const override { return table_.known_version(); }
  core::Result<int64_t> restore(int64_t version) override { return table_.restore(version); }

 private:
  connectors::delta::DeltaTable& table_;
};

// An epoch's TableWriter; finish() adds its thread CPU time to `encode_cpu_us` (metrics).
class DeltaStagedFiles final : public StagedFiles {
 public:
  DeltaStagedFiles(std::unique_ptr<connectors::delta::TableWriter> writer,
                   std::atomic<int64_t>* encode_cpu_us)
      : writer_(std::move(writer)), encode_cpu_us_(encode_cpu_us) {}
  int64_t rows() const override { return writer_->rows(); }
  core::Result<std::vector<std::string>> finish() override;

 private:
  std::unique_ptr<connectors::delta::TableWriter> writer_;
  std::atomic<int64_t>* encode_cpu_us_;
};

}  // namespace pinstream::runtime
