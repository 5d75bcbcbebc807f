// The Kafka source's class, shared by its three files (included by .cc files only):
// kafka_source.cc is the consumer (open, messages, errors, reachability, commits);
// kafka_lanes.cc is the order records are handed out in (poll: each partition's lane);
// kafka_assignment.cc is which partitions it reads and where they end (the group's
// rebalances or `partitions: all`, the fixed ends of --available-now, drained, lag).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/msk_iam_auth.h"
#include "connectors/poll_budget.h"
#include "connectors/reachability.h"

namespace pinstream::connectors::kafka {

using Clock = std::chrono::steady_clock;

std::optional<int64_t> parse_offset(const std::string& s);
// "topic/partition" -> (topic, partition); nullopt when the id has no numeric partition.
std::optional<std::pair<std::string, int32_t>> split_id(const std::string& id);
std::string part_id(const std::string& topic, int32_t p);

class KafkaSource final : public Source {
 public:
  explicit KafkaSource(KafkaSettings s);
  ~KafkaSource() override;

  void set_bounded(bool bounded) override { bounded_ = bounded; }
  core::Status set_membership(const Membership& membership) override;
  core::Status open(const core::Positions& restore) override;
  // Waits up to `timeout` for the first message only, then takes whatever else is queued,
  // so that a trickle of messages is not held back until the timeout.
  core::Result<size_t> poll(core::Batch& out, std::chrono::milliseconds timeout,
                            size_t max_records) override;
  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }
  core::Positions positions() const override;
  core::Result<core::Positions> fix_end_positions() override;
  bool drained() const override;
  // Why drained() says no (partitions without their end signal, an unreachable cluster or
  // ends still to verify), logged at most every kExplainEvery while nothing is read: a run
  // stopping when idle never waits silently.
  void explain_not_drained() const;
  core::Status on_epoch_committed(const core::Positions& committed) override;
  void hand_off_done() override;
  bool rebalancing() const override { return rebalancing_.load(); }
  std::map<uint32_t, int64_t> lag() const override;
  int32_t task_count() const override { return task_count_.load(); }
  // For tests: the partitions assigned now, and the rebalance callbacks served so far.
  const std::set<std::string>& assigned() const { return assigned_; }
  int64_t rebalances() const { return rebalances_; }

 private:
  static constexpr int kProbeMs = 1000;

  // kafka_source.cc: the consumer.
  core::Status subscribe();
  static void on_token_refresh(rd_kafka_t* rk, const char*, void* opaque);
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
  void no_answer(rd_kafka_resp_err_t e, const char* reason);
  core::Status check_fatal() const;
  core::Status check_reachable();
  bool take(core::Batch& out, const rd_kafka_message_t* m);
  // Hands out (or records the error or end in) one message and destroys it; true when it
  // was a record handed out.
  bool consume_one(core::Batch& out, rd_kafka_message_t* m);
  uint32_t partition_index(const std::string& id, const std::string& topic);

  // kafka_lanes.cc: the order records are handed out in. Each assigned partition's fetched
  // messages wait in its own queue (a lane) instead of librdkafka's one consumer queue, and
  // every poll takes a share of each lane, no lane more than kSlack records ahead of the
  // slowest lane that has more to read (as the files source reads its partitions).
  // How long a lane with more to read stays empty before its broker is woken (wake_fetchers).
  static constexpr std::chrono::milliseconds kWakeAfter{2};
  struct Lane {
    std::string id, topic;
    int32_t partition = 0;
    rd_kafka_queue_t* q = nullptr;
    // Taken from the consumer queue before the lane had its own: handed out first.
    std::deque<rd_kafka_message_t*> early;
    int64_t handed = 0;               // records handed out since the lane opened (see open_lanes)
    Clock::time_point empty_since{};  // since when it is empty with more to read
    bool was_empty = false;           // empty with more to read when last looked at
    Clock::time_point woken{};        // last seek that woke its broker thread
    Clock::duration wake_backoff = kWakeAfter;  // how long after `woken` it may be woken again
  };
  static constexpr int64_t kSlack = 64;
  size_t drain_consumer_queue(core::Batch& out);
  bool open_lanes();
  // Takes the lane's partition queue from librdkafka; false when it cannot give it yet.
  bool attach_queue(Lane& lane);
  void close_lane(Lane& lane);
  bool holds_back(Lane& lane, Clock::time_point now);
  size_t take_in_step(core::Batch& out, size_t max_records);
  size_t take_from(Lane& lane, core::Batch& out, size_t n);
  void wait_for_messages(std::chrono::milliseconds timeout);
  // Whether the partition has more to read than it has fetched (its high watermark, as last
  // fetched, past its position; not past the fixed end, not at EOF).
  bool more_to_read(const Lane& lane);
  // Wakes the broker thread of a lane left empty although it has more to read; returns how
  // long until another lane may need it (Clock::duration::max(): none).
  Clock::duration wake_fetchers(Clock::time_point now);

  // kafka_assignment.cc: partitions and their ends.
  void assign_all();
  void verify_ends();
  bool no_assignment_coming() const;
  bool reached_ends() const;
  void stop_at_end(const rd_kafka_message_t* m, const char* topic, const std::string& id);
  // Leaves the group, waiting a few seconds at most (see kafka_source.cc).
  void close_bounded();
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque);

  // kafka_membership.cc: what the group may hand this process (SPEC section 9).
  // False (fatal_ set: poll() returns it) when the newly assigned `parts` must not be read.
  bool admit(const rd_kafka_topic_partition_list_t* parts);
  // Membership::may_start_fresh for those of `ids` without a position. One refused is held
  // paused (held_) by a daemon, which goes on with its other partitions (the task's owner may
  // come back and take it in a later rebalance); a bounded run fails (false, fatal_ set).
  bool fresh_allowed(const std::set<std::string>& ids);
  bool take_partitions(const std::set<std::string>& ids);
  void pause_held(const rd_kafka_topic_partition_list_t* parts);
  void revoked(const rd_kafka_topic_partition_list_t* parts);
  // Task hand-off (Membership::hand_off): true when the revoke of `parts` waits for the
  // runtime (the unassign is left to finish_hand_off); false: unassign now.
  bool defer_unassign(const rd_kafka_topic_partition_list_t* parts);
  // In poll(): lets the rebalance go on once the runtime said the hand-off is done.
  void finish_hand_off();
  // The partitions the rebalance gave to another member after this source read them.
  void release(const std::set<std::string>& ids);
  // A message of a partition whose revoke waits for the hand-off: dropped, never handed out.
  bool revoking(const rd_kafka_message_t* m) const;
  // Partition counts of our topics from the cluster's metadata (false: no answer now).
  bool read_partition_counts();
  core::Status check_co_partitioned();
  bool refuse(core::Status st);

  std::map<std::string, std::string> props_;
  std::map<std::string, uint32_t> topics_;
  std::unique_ptr<MskIamAuth> auth_;  // auth: msk-iam; outlives rk_ (destroyed in ~KafkaSource)
  rd_kafka_t* rk_ = nullptr;
  Reachability reach_;
  bool bounded_ = false, warned_ = false;
  bool ends_unverified_ = false;  // partition ends not checked since the last transport error
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds max_idle_wait_;  // source.kafka.max_idle_wait_ms (holds_back)
  const bool all_partitions_;                // partitions: all: assigned by assign_all, no group
  bool all_assigned_ = false;                // every topic's partitions assigned (partitions: all)
  bool has_end_ = false;                     // --available-now: ends fixed
  Clock::time_point end_fixed_at_{};
  mutable bool warned_unassigned_ = false;
  std::map<std::string, int64_t> end_;  // partition id -> high watermark at start
  std::set<std::string> past_end_;      // partitions where a message past the end was met
  Clock::time_point next_probe_{}, next_verify_{}, next_assign_{};
  Clock::time_point last_taken_{};  // the last record handed out
  mutable Clock::time_point next_explain_{};

  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<std::unique_ptr<Lane>> lanes_;  // in the order they opened
  int wake_[2] = {-1, -1};  // a pipe librdkafka writes to when a lane or queue_ gets messages
  std::vector<rd_kafka_message_t*> msgs_;
  PollBudget budget_;              // how many records a poll takes (poll)
  Clock::time_point last_wake_{};  // wake_fetchers
  int64_t wakes_ = 0;
  std::vector<core::PartitionRef> refs_;
  std::map<std::string, uint32_t> index_;
  std::map<std::string, int64_t> last_;  // last consumed (or restored) offset per partition id
  std::map<std::string, bool> eof_;
  std::set<std::string> assigned_;
  struct Seen {
    uint32_t index = 0;
    std::string topic;
    int64_t* last = nullptr;  // into last_
    bool* eof = nullptr;      // into eof_
    int64_t end = INT64_MAX;  // the fixed end (--available-now): first offset not to read
  };
  struct TopicPartitionHash {
    size_t operator()(const std::pair<const void*, int32_t>& k) const {
      return std::hash<const void*>()(k.first) * 31 + std::hash<int32_t>()(k.second);
    }
  };
  std::unordered_map<std::pair<const void*, int32_t>, Seen, TopicPartitionHash> seen_;
  Seen* last_seen_ = nullptr;  // take(): the entry of the last message's partition
  const void* last_seen_rkt_ = nullptr;
  int32_t last_seen_partition_ = -1;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  // The last error verify_ends() met (logged once per kind: a bounded run waits on it).
  rd_kafka_resp_err_t ends_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;

  // Membership (kafka_membership.cc).
  const bool instance_from_host_;  // group.instance.id is the host default: set_membership
  const bool strategy_given_;      // properties chose partition.assignment.strategy
  bool membership_set_ = false;    // by the runtime; the source's own tests run without it
  Membership membership_;
  std::map<std::string, int32_t> counts_;  // topic -> partitions, at the last assignment
  std::atomic<int32_t> task_count_{0};     // their one count when equal (else 0)
  std::set<std::string> revoked_round_;    // revoked by the rebalance under way (eager)
  std::set<std::string> held_;             // assigned, refused by may_start_fresh: paused
  bool revoke_lost_ = false;               // the last revoke: our session had expired
  bool revoke_read_ = false;               // the last revoke took partitions we had read
  // Task hand-off: revoked partitions whose unassign waits for the runtime's commit.
  std::set<std::string> revoking_;
  rd_kafka_topic_partition_list_t* revoke_parts_ = nullptr;  // owned while pending
  Clock::time_point revoke_since_{};
  bool revoke_warned_ = false;
  std::atomic<bool> hand_off_done_{false};
  std::atomic<bool> rebalancing_{false};  // Source::rebalancing
  bool closing_ = false;                  // the final revoke of close_bounded
  core::Status fatal_;                    // a refused assignment: every poll returns it
  int64_t rebalances_ = 0;
};

}  // namespace pinstream::connectors::kafka
