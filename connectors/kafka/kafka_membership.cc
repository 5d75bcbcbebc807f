// What the consumer group may hand this process (SPEC section 9): co-located tasks (the
// `range` assignor over co-partitioned topics), static membership ids, and the assignments
// a process refuses because reading them would lose or double rows (until task hand-off).
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "connectors/kafka/kafka_source_impl.h"

namespace pinstream::connectors::kafka {
using core::Status;

namespace {

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

Status KafkaSource::set_membership(const Membership& membership) {
  membership_ = membership;
  membership_set_ = true;
  if (all_partitions_) return Status::ok();  // no group join: nothing else to set
  if (membership.tasks_by_partition) {
    // `range` gives partition p of every topic to the same member when the topics have equal
    // partition counts (checked at each assignment); the sticky assignors do not.
    auto& strategy = props_["partition.assignment.strategy"];
    if (strategy_given_ && strategy != "range")
      return Status::invalid(
          "source.kafka.properties.partition.assignment.strategy is '" + strategy +
          "' but pipeline.tasks: partitions needs range (partition p of every topic on one "
          "member); remove the property");
    strategy = "range";
  }
  if (instance_from_host_ && !membership.member_hint.empty())
    props_["group.instance.id"] =
        member_instance_id(props_["group.id"], host_name(), membership.member_hint);
  return Status::ok();
}

bool KafkaSource::refuse(Status st) {
  if (fatal_.is_ok()) {
    spdlog::error("Kafka assignment refused. group={} reason={}", props_["group.id"], st.message());
    fatal_ = std::move(st);
  }
  return false;
}

bool KafkaSource::read_partition_counts() {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 1, nullptr, &md, kProbeMs);
  if (e) {
    if (md) rd_kafka_metadata_destroy(md);
    spdlog::warn(
        "Kafka metadata unavailable at a rebalance; partition counts not checked. error={}",
        rd_kafka_err2str(e));
    return false;
  }
  counts_.clear();
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topics_.count(t.topic) && !t.err && t.partition_cnt > 0) counts_[t.topic] = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return true;
}

// Tasks are co-located only when every topic has the same partition count (then the
// pipeline's task count).
Status KafkaSource::check_co_partitioned() {
  bool equal = true;
  std::string counts;
  for (const auto& [topic, n] : counts_) {
    equal = equal && n == counts_.begin()->second;
    counts += (counts.empty() ? "" : ", ") + topic + " " + std::to_string(n);
  }
  if (equal) {
    task_count_ = counts_.size() == topics_.size() ? counts_.begin()->second : 0;
    return Status::ok();
  }
  return Status::invalid(
      "pipeline.tasks: partitions needs co-partitioned topics (equal partition counts, keyed by "
      "the join key), but the topics have " +
      counts + " partitions: recreate them with one partition count");
}

// Served in the rebalance callback before `parts` are assigned.
bool KafkaSource::admit(const rd_kafka_topic_partition_list_t* parts) {
  if (!fatal_.is_ok()) return false;
  std::set<std::string> ids;
  for (int i = 0; i < parts->cnt; ++i)
    ids.insert(part_id(parts->elems[i].topic, parts->elems[i].partition));
  std::set<std::string> lost;
  for (const auto& id : revoked_round_)
    if (!ids.count(id) && last_.count(id)) lost.insert(id);
  revoked_round_.clear();
  if (!membership_set_) return true;
  if (all_partitions_) return fresh_allowed(ids);
  const bool counted = read_partition_counts();
  if (membership_.tasks_by_partition) {
    if (counted) {
      if (Status st = check_co_partitioned(); !st.is_ok()) return refuse(st);
    }
    if (!lost.empty()) {
      // Without a hand-off (or after our session expired: our last epochs may still commit)
      // a moved task would be read twice.
      if (!membership_.released || revoke_lost_)
        return refuse(Status::internal(
            "Kafka group " + props_["group.id"] + " moved partitions this process has read (" +
            joined({lost.begin(), lost.end()}) + ") to another member " +
            (revoke_lost_ ? "after this process's session expired" : "without a task hand-off") +
            ": stopping so that each task keeps one writer; restart this member"));
      release(lost);
    }
  } else if (counted) {
    size_t total = 0, have = assigned_.size();
    for (const auto& [topic, n] : counts_) total += static_cast<size_t>(n);
    for (const auto& id : ids) have += assigned_.count(id) ? 0u : 1u;
    if (have < total)
      return refuse(Status::invalid(
          "pipeline.tasks: single reads every partition in one process, but Kafka group " +
          props_["group.id"] + " assigned this process " + std::to_string(have) + " of " +
          std::to_string(total) +
          ": another process of this pipeline is in the group; stop it, or set "
          "pipeline.tasks: partitions on every member to scale out"));
  }
  return fresh_allowed(ids);
}

bool KafkaSource::fresh_allowed(const std::set<std::string>& ids) {
  if (membership_.take_partition) return take_partitions(ids);
  if (!membership_.may_start_fresh) return true;
  for (const auto& id : ids) {
    if (last_.count(id)) continue;
    Status st = membership_.may_start_fresh(id);
    if (st.is_ok()) continue;
    if (bounded_) return refuse(st);  // the run could not read everything: it fails
    held_.insert(id);
    spdlog::error("Kafka partition held paused, not read. partition={} reason={}", id,
                  st.message());
  }
  return true;
}

// Task hand-off: a partition whose task was just handed over reads on from the position the
// runtime gives; one nobody can continue yet is held paused.
bool KafkaSource::take_partitions(const std::set<std::string>& ids) {
  for (const auto& id : ids) {
    if (assigned_.count(id)) continue;
    auto taken = membership_.take_partition(id);
    if (taken && *taken) {
      if ((*taken)->empty())
        last_.erase(id);
      else
        last_[id] = std::stoll(**taken);
      continue;
    }
    if (taken) continue;
    if (bounded_) return refuse(taken.error());
    held_.insert(id);
    spdlog::error("Kafka partition held paused, not read. partition={} reason={}", id,
                  taken.error().message());
  }
  return true;
}

void KafkaSource::pause_held(const rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
  for (int i = 0; i < parts->cnt; ++i)
    if (held_.count(part_id(parts->elems[i].topic, parts->elems[i].partition)))
      rd_kafka_topic_partition_list_add(list, parts->elems[i].topic, parts->elems[i].partition);
  if (list->cnt) rd_kafka_pause_partitions(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
}

// Served in the rebalance callback. A process of a single-task pipeline has partitions
// revoked (not lost with its session) only when another process joined its group: it stops
// (and the newcomer too when given part of them, see admit).
void KafkaSource::revoked(const rd_kafka_topic_partition_list_t* parts) {
  if (closing_) return;
  revoke_lost_ = rd_kafka_assignment_lost(rk_) != 0;
  revoke_read_ = false;
  for (int i = 0; i < parts->cnt; ++i) {
    const std::string id = part_id(parts->elems[i].topic, parts->elems[i].partition);
    revoked_round_.insert(id);
    held_.erase(id);  // checked again if it comes back
    revoke_read_ = revoke_read_ || last_.count(id) > 0;
  }
  // A lost assignment (our session expired, e.g. the brokers were away) is no other process.
  if (membership_set_ && !membership_.tasks_by_partition && !all_partitions_ &&
      !rd_kafka_assignment_lost(rk_))
    refuse(
        Status::invalid("pipeline.tasks: single reads every partition in one process, but "
                        "Kafka group " +
                        props_["group.id"] +
                        " took partitions from it for another process of this pipeline; stop "
                        "that process, or set pipeline.tasks: partitions on every member to "
                        "scale out"));
}

// Kafka Streams' eager hand-off: the group waits for this member's unassign, so the tasks'
// last records are committed and their checkpoints published before any other member is
// given them (and decides from the tables and those checkpoints, task_handoff.h).
bool KafkaSource::defer_unassign(const rd_kafka_topic_partition_list_t* parts) {
  if (closing_ || !membership_set_ || !membership_.tasks_by_partition || !membership_.hand_off ||
      revoke_lost_ || !revoke_read_ || !fatal_.is_ok())
    return false;
  rd_kafka_pause_partitions(rk_, const_cast<rd_kafka_topic_partition_list_t*>(parts));
  if (revoke_parts_) rd_kafka_topic_partition_list_destroy(revoke_parts_);
  revoke_parts_ = rd_kafka_topic_partition_list_copy(parts);
  for (int i = 0; i < parts->cnt; ++i)
    revoking_.insert(part_id(parts->elems[i].topic, parts->elems[i].partition));
  revoke_since_ = Clock::now();
  revoke_warned_ = false;
  hand_off_done_ = false;
  spdlog::info("Kafka revoke held for the task hand-off. partitions={}", parts->cnt);
  membership_.hand_off();
  return true;
}

void KafkaSource::hand_off_done() {
  rebalancing_ = true;
  hand_off_done_ = true;
  // A full pipe already wakes the poll.
  if (wake_[1] >= 0 && ::write(wake_[1], "h", 1) < 0) return;
}

void KafkaSource::finish_hand_off() {
  if (!revoke_parts_) return;
  if (!hand_off_done_.exchange(false)) {
    constexpr auto kWarnAfter = std::chrono::seconds(30);
    if (!revoke_warned_ && Clock::now() - revoke_since_ > kWarnAfter) {
      revoke_warned_ = true;
      spdlog::warn(
          "Kafka rebalance waits for the task hand-off (the epoch's commit) for over "
          "{} s; the group evicts this member after max.poll.interval.ms",
          kWarnAfter.count());
    }
    return;
  }
  // A pause outlives the assignment: resumed, so that those handed back are read again.
  rd_kafka_resume_partitions(rk_, revoke_parts_);
  const bool cooperative = std::string(rd_kafka_rebalance_protocol(rk_)) == "COOPERATIVE";
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, revoke_parts_))
      rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk_, nullptr);
  }
  spdlog::info(
      "Kafka revoke completed after the task hand-off. partitions={} ms={}", revoke_parts_->cnt,
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - revoke_since_).count());
  rd_kafka_topic_partition_list_destroy(revoke_parts_);
  revoke_parts_ = nullptr;
  revoking_.clear();
}

void KafkaSource::release(const std::set<std::string>& ids) {
  for (const auto& id : ids) {
    last_.erase(id);
    eof_.erase(id);
    past_end_.erase(id);
  }
  seen_.clear();  // its entries point into last_ and eof_
  last_seen_ = nullptr;
  spdlog::info("Kafka partitions handed to another member. partitions={}",
               joined({ids.begin(), ids.end()}));
  membership_.released({ids.begin(), ids.end()});
}

bool KafkaSource::revoking(const rd_kafka_message_t* m) const {
  return !revoking_.empty() && m->rkt &&
         revoking_.count(part_id(rd_kafka_topic_name(m->rkt), m->partition)) > 0;
}

}  // namespace pinstream::connectors::kafka
