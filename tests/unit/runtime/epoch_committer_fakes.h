// Fakes of the epoch committer's two interfaces (stream/table_sink.h) for its unit tests:
// an in-memory table log that records every commit, an in-memory state that keeps the last
// committed epoch, and staged files; each can be told to fail at one step.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "stream/table_sink.h"

namespace pinstream::runtime::fakes {

// The order in which the protocol's steps ran, across every fake ("finish:pin", "state:2",
// "commit:pin:2", "checkpoint"). Thread-safe: tables may run on threads of their own.
struct Events {
  std::mutex mu;
  std::vector<std::string> seen;
  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(std::move(e));
  }
};

class FakeTable final : public TableSink {
 public:
  struct Commit {
    std::vector<std::string> app_ids;  // one txn each
    int64_t txn = 0;
    std::vector<std::string> adds;
    bool operator==(const Commit&) const = default;
  };
  FakeTable(std::string name, Events& events) : name_(std::move(name)), events_(events) {}

  // Fail the commit of `txn`: before it lands, or after (the commit is in the log, the
  // caller sees an error: a crash right after the put).
  std::optional<int64_t> fail_before_txn, fail_after_txn;

  // A sink without a txn check of its own: the committer alone must not commit twice.
  core::Result<Committed> commit(const std::vector<std::string>& adds,
                                 const std::vector<std::string>& app_ids, int64_t txn) override {
    if (fail_before_txn == txn) {
      fail_before_txn.reset();
      return core::Status::io("injected: commit of " + name_ + " failed");
    }
    log.push_back({app_ids, txn, adds});
    for (const auto& app_id : app_ids) txn_[app_id] = txn;
    events_.add("commit:" + name_ + ":" + std::to_string(txn));
    if (fail_after_txn == txn) {
      fail_after_txn.reset();
      return core::Status::io("injected: crash after the commit of " + name_ + " landed");
    }
    return Committed{static_cast<int64_t>(log.size()) - 1, false};
  }
  std::optional<int64_t> known_txn_version(const std::string& app_id) const override {
    auto it = txn_.find(app_id);
    return it == txn_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  core::Result<std::optional<int64_t>> txn_version(const std::string& app_id) override {
    return known_txn_version(app_id);
  }
  core::Result<int64_t> latest_version() override { return static_cast<int64_t>(log.size()) - 1; }
  int64_t known_version() const override { return static_cast<int64_t>(log.size()) - 1; }
  core::Result<int64_t> restore(int64_t) override {
    return core::Status::internal("not used by the committer");
  }

  std::vector<Commit> log;  // version v is log[v]

 private:
  std::string name_;
  Events& events_;
  std::map<std::string, int64_t> txn_;
};

// `rows` rows of table `name` staged in epoch `epoch`: one file when rows > 0.
class FakeFiles final : public StagedFiles {
 public:
  FakeFiles(std::string name, int64_t epoch, int64_t rows, Events& events, bool fail = false)
      : name_(std::move(name)), epoch_(epoch), rows_(rows), events_(events), fail_(fail) {}
  int64_t rows() const override { return rows_; }
  core::Result<std::vector<std::string>> finish() override {
    if (fail_) return core::Status::io("injected: files of " + name_ + " not written");
    events_.add("finish:" + name_);
    if (rows_ == 0) return std::vector<std::string>{};
    return std::vector<std::string>{R"({"path":")" + name_ + "-" + std::to_string(epoch_) +
                                    R"(.parquet","numRecords":)" + std::to_string(rows_) + "}"};
  }

 private:
  std::string name_;
  int64_t epoch_, rows_;
  Events& events_;
  bool fail_;
};

class FakeState final : public StateWriter {
 public:
  explicit FakeState(Events& events) : events_(events) {}
  std::optional<int64_t> fail_write_of_epoch, fail_checkpoint_of_epoch;

  core::Status commit(state::StateStore::WriteBatch&, const EpochMeta& meta) override {
    if (fail_write_of_epoch == meta.epoch) {
      fail_write_of_epoch.reset();
      return core::Status::io("injected: state write failed");
    }
    auto copy = EpochMeta::from_json(meta.to_json());  // what a restart reads back
    if (!copy) return copy.error();
    durable = std::move(*copy);
    events_.add("state:" + std::to_string(meta.epoch));
    return core::Status::ok();
  }
  core::Status checkpoint(const std::string& dir) override {
    if (fail_checkpoint_of_epoch && durable && durable->epoch == *fail_checkpoint_of_epoch) {
      fail_checkpoint_of_epoch.reset();
      return core::Status::io("injected: checkpoint failed");
    }
    std::filesystem::create_directories(dir);
    std::ofstream(std::filesystem::path(dir) / "CURRENT") << "state\n";
    events_.add("checkpoint");
    return core::Status::ok();
  }

  std::optional<EpochMeta> durable;  // the last committed epoch

 private:
  Events& events_;
};

}  // namespace pinstream::runtime::fakes
