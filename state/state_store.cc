#include "state/state_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "state/codec.h"

namespace pinstream::state {
namespace fs = std::filesystem;
using core::Status;

namespace {

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::ok();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  return Status::io(what + ": " + s.ToString());
}

// Merged without a read (median state): 8-byte order-preserving int64 counters are summed,
// packed histograms (codec.h) are merged. (The name predates histograms; RocksDB records it.)
class AddI64 final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    std::string_view v(value.data(), value.size());
    if (is_histogram(v)) {
      if (!existing) {
        new_value->assign(v);
        return true;
      }
      std::string out;
      if (!merge_histograms(std::string_view(existing->data(), existing->size()), v, out))
        return false;
      *new_value = std::move(out);
      return true;
    }
    int64_t a = 0, b = 0;
    if (existing) {
      std::string_view e(existing->data(), existing->size());
      if (!get_i64(e, a)) return false;
    }
    if (!get_i64(v, b)) return false;
    new_value->clear();
    put_i64(*new_value, a + b);
    return true;
  }
  const char* Name() const override { return "pinstream.AddI64"; }
};

class DbReader final : public StateStore::Reader {
 public:
  DbReader(rocksdb::DB* db, const rocksdb::Snapshot* snap, std::shared_ptr<void> keep)
      : db_(db), snap_(snap), keep_(std::move(keep)) {}
  ~DbReader() override {
    if (snap_) db_->ReleaseSnapshot(snap_);
  }
  core::Result<std::optional<std::string>> get(std::string_view key) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    std::string v;
    rocksdb::Status s = db_->Get(ro, rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return from_rocks(s, "state get");
    return std::optional<std::string>(std::move(v));
  }
  Status scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key();
      if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      rocksdb::Slice v = it->value();
      if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
    }
    return from_rocks(it->status(), "state scan");
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  std::shared_ptr<void> keep_;
};

}  // namespace

struct StateStore::WriteBatch::Impl {
  rocksdb::WriteBatch batch;
};
StateStore::WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
StateStore::WriteBatch::~WriteBatch() = default;
StateStore::WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
StateStore::WriteBatch& StateStore::WriteBatch::operator=(WriteBatch&&) noexcept = default;
void StateStore::WriteBatch::put(std::string_view k, std::string_view v) {
  (void)impl_->batch.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size()));
}
void StateStore::WriteBatch::del(std::string_view k) {
  (void)impl_->batch.Delete(rocksdb::Slice(k.data(), k.size()));
}
void StateStore::WriteBatch::delete_range(std::string_view b, std::string_view e) {
  (void)impl_->batch.DeleteRange(rocksdb::Slice(b.data(), b.size()),
                                 rocksdb::Slice(e.data(), e.size()));
}
void StateStore::WriteBatch::add_i64(std::string_view k, int64_t delta) {
  std::string v;
  put_i64(v, delta);
  (void)impl_->batch.Merge(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v));
}
void StateStore::WriteBatch::merge_histogram(std::string_view k, std::string_view packed) {
  (void)impl_->batch.Merge(rocksdb::Slice(k.data(), k.size()),
                           rocksdb::Slice(packed.data(), packed.size()));
}
size_t StateStore::WriteBatch::count() const { return static_cast<size_t>(impl_->batch.Count()); }
size_t StateStore::WriteBatch::bytes() const { return impl_->batch.GetDataSize(); }

struct StateStore::Impl {
  std::shared_ptr<rocksdb::DB> db;
  std::unique_ptr<DbReader> live;
};

core::Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir, Options opts) {
  rocksdb::Options o;
  o.create_if_missing = !opts.read_only;
  o.IncreaseParallelism(2);
  o.compression = rocksdb::kSnappyCompression;
  o.write_buffer_size = opts.memtable_mb << 20;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  t.block_cache = rocksdb::NewLRUCache(opts.block_cache_mb << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.max_open_files = 256;
  o.merge_operator = std::make_shared<AddI64>();
  o.keep_log_file_num = 3;
  // Point-in-time WAL recovery (RocksDB's default) stays: a kill -9 may leave a torn last
  // record, which must not stop the restart. A WAL damaged further back rolls the state back
  // silently here; the engine refuses that at start, because the tables' txn versions are
  // then ahead of the recovered epoch (stream/consistency.h).
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (opts.read_only) {
    if (!fs::exists(fs::path(dir) / "CURRENT"))
      return Status::not_found("no committed state in " + dir);
    s = rocksdb::DB::OpenForReadOnly(o, dir, &raw);
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    s = rocksdb::DB::Open(o, dir, &raw);
  }
  if (!s.ok()) return from_rocks(s, "cannot open state in " + dir);
  std::unique_ptr<StateStore> st(new StateStore());
  st->impl_ = std::make_unique<Impl>();
  st->impl_->db.reset(raw);
  st->impl_->live = std::make_unique<DbReader>(raw, nullptr, nullptr);
  return st;
}

StateStore::~StateStore() {
  if (impl_) {
    impl_->live.reset();
    if (impl_->db) (void)impl_->db->Close();
  }
}

Status StateStore::write(WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocks(impl_->db->Write(wo, &batch.impl_->batch), "state write");
}

const StateStore::Reader& StateStore::live() const { return *impl_->live; }

std::shared_ptr<const StateStore::Reader> StateStore::snapshot() const {
  const rocksdb::Snapshot* snap = impl_->db->GetSnapshot();
  return std::make_shared<DbReader>(impl_->db.get(), snap, impl_->db);
}

Status StateStore::checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* cp = nullptr;
  PS_RETURN_IF_ERROR(from_rocks(rocksdb::Checkpoint::Create(impl_->db.get(), &cp), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> guard(cp);
  // Up to 32 MiB of write-ahead log is copied into the checkpoint instead of flushing the
  // memtables first: a flush at every checkpoint cost ~90 ms of the run's critical path.
  return from_rocks(cp->CreateCheckpoint(dir, 32u << 20), "checkpoint into " + dir);
}

Status StateStore::restore_from_checkpoint(const std::string& checkpoint_dir,
                                           const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(checkpoint_dir) / "CURRENT"))
    return Status::not_found("no RocksDB checkpoint in " + checkpoint_dir);
  std::string tmp = dir + ".restoring";
  fs::remove_all(tmp, ec);
  fs::copy(checkpoint_dir, tmp, fs::copy_options::recursive, ec);
  if (ec) return Status::io("cannot copy checkpoint " + checkpoint_dir + ": " + ec.message());
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) return Status::io("cannot move restored state into " + dir + ": " + ec.message());
  return Status::ok();
}

uint64_t StateStore::approximate_size() const {
  uint64_t size = 0;
  impl_->db->GetIntProperty("rocksdb.total-sst-files-size", &size);
  return size;
}

}  // namespace pinstream::state
