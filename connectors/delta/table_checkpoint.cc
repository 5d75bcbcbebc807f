// DeltaTable's checkpoints: when one is due, and the handle's Checkpointer that writes it.
#include <algorithm>

#include "connectors/delta/checkpointer.h"
#include "connectors/delta/log_cleanup.h"
#include "connectors/delta/table.h"

namespace pinstream::connectors::delta {
namespace {
// A checkpoint rewrites every action of the table, tombstones included (kept for
// delta.deletedFileRetentionDuration, 7 days by default: ~32 per compaction). So one is
// written at a multiple of checkpoint_interval only once the commits since the previous
// one are at least 1/kRowsPerCommit of its rows: writing checkpoints then costs at most
// that many rows per commit, however large the table, and a reader replays at most
// rows/kRowsPerCommit JSON commits after it. Small tables keep one every interval.
constexpr int64_t kRowsPerCommit = 64;
}  // namespace

DeltaTable::DeltaTable() = default;
DeltaTable::~DeltaTable() = default;

void DeltaTable::maybe_checkpoint(int64_t version) {
  const int64_t every = opts_.checkpoint_interval;
  if (every <= 0 || version % every != 0 || snapshot_.version != version) return;
  const auto rows = static_cast<int64_t>(snapshot_.active.size() + snapshot_.removed.size() +
                                         snapshot_.txn.size()) +
                    2;
  if (last_checkpoint_ >= 0 && (version - last_checkpoint_) * kRowsPerCommit < rows) return;
  // Tombstones past the retention leave the snapshot as they leave the checkpoint (Delta
  // drops them): the handle's memory stays bounded by the retention too.
  const int64_t expired =
      now_ms() - table_interval_ms(snapshot_, "delta.deletedFileRetentionDuration",
                                   kDefaultDeletedFileRetentionMs);
  std::erase_if(snapshot_.removed, [expired](const auto& r) { return r.second < expired; });
  if (!checkpointer_)
    checkpointer_ = std::make_unique<Checkpointer>(store_, opts_.background_checkpoints);
  checkpointer_->submit(snapshot_);
  last_checkpoint_ = version;
}

void DeltaTable::wait_checkpoints() {
  if (checkpointer_) checkpointer_->wait_idle();
}

}  // namespace pinstream::connectors::delta
