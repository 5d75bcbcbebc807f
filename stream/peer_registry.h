// Where the members of a shared pipeline (SPEC section 9, `shares_tasks`) find each other:
// each writes `peers/<instance>.json` into the checkpoint store's shared namespace
// (CheckpointStore::objects(), which prune leaves alone) at start, whenever the tasks of
// its committed state change, and every heartbeat; it reads the others' records at every
// heartbeat, so queries read no store (PeerRegistry::view). A record not updated for the
// stale time is ignored (and reported as stale). The record is removed at a clean stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/objstore/object_store.h"
#include "stream/committed_view.h"
#include "stream/query/peers.h"

namespace pinstream::runtime {

struct PeerRegistryOptions {
  int64_t heartbeat_ms = 2000;  // Default: 2 s between writes of our record and reads of theirs
  int64_t stale_ms = 15000;     // Default: 15 s (runtime.peer_stale_ms)
  // The tasks held paused here, with the reason (Engine::held_tasks), written into our
  // record and read live for our own view. Default: none.
  std::function<std::map<int32_t, std::string>()> held;
};

// The record's JSON and back (nullopt when malformed).
std::string peer_record_json(const PeerInfo& p);
std::optional<PeerInfo> parse_peer_record(std::string_view text);

// The records in `store` but `self_instance`'s, each flagged stale when older than
// `stale_ms` at `now_ms` (wall clock). A listing error is logged and reads as none.
std::vector<PeerInfo> read_peer_records(connectors::objstore::ObjectStore& store,
                                        const std::string& self_instance, int64_t stale_ms,
                                        int64_t now_ms);

class PeerRegistry {
 public:
  // Writes our record and reads the others' once before returning (a first query sees its
  // peers), then keeps doing it on a thread of its own. `self` gives instance, host, pid
  // and address; tasks and epoch come from `committed`, the partition count from
  // `task_total` (0: unknown). IoError when the first write fails.
  static core::Result<std::unique_ptr<PeerRegistry>> start(connectors::objstore::ObjectStore& store,
                                                           PeerInfo self,
                                                           std::function<CommittedView()> committed,
                                                           std::function<int32_t()> task_total,
                                                           PeerRegistryOptions opts = {});
  ~PeerRegistry();  // stops the thread and removes our record
  PeerView view() const;

 private:
  PeerRegistry(connectors::objstore::ObjectStore& store, PeerInfo self,
               std::function<CommittedView()> committed, std::function<int32_t()> task_total,
               PeerRegistryOptions opts);
  core::Status write_self(int64_t now_ms);
  void read_peers(int64_t now_ms);
  void loop();

  connectors::objstore::ObjectStore& store_;
  std::function<CommittedView()> committed_;
  std::function<int32_t()> task_total_;
  PeerRegistryOptions opts_;
  std::string key_;
  mutable std::mutex mu_;  // view_
  PeerView view_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pinstream::runtime
