// Which partitions the Kafka source reads and where they end: the group's rebalances (or
// every partition, with `partitions: all`), the fixed ends of --available-now, drained, lag.
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/kafka/end_offsets.h"
#include "connectors/kafka/kafka_source_impl.h"

namespace pinstream::connectors::kafka {

// The ends are the high watermarks; a partition is read to its end once the offset before
// it was handed out, a later one was met (control records leave gaps) or librdkafka
// signalled the partition's end.
core::Result<core::Positions> KafkaSource::fix_end_positions() {
  PS_ASSIGN_OR_RETURN(
      end_, query_high_watermarks(rk_, topics_, connect_timeout_, props_["bootstrap.servers"]));
  core::Positions out;
  for (const auto& [id, hw] : end_) out[id] = std::to_string(hw - 1);
  has_end_ = true;
  end_fixed_at_ = Clock::now();
  return out;
}

bool KafkaSource::drained() const {
  if (has_end_)
    return !reach_.down() && revoking_.empty() &&
           (assigned_.empty() ? no_assignment_coming() : reached_ends());
  if (assigned_.empty() || reach_.down() || ends_unverified_) {
    explain_not_drained();
    return false;
  }
  for (const auto& id : assigned_) {
    auto it = eof_.find(id);
    if (it == eof_.end() || !it->second) {
      explain_not_drained();
      return false;
    }
  }
  return true;
}

void KafkaSource::explain_not_drained() const {
  constexpr auto kExplainEvery = std::chrono::seconds(30);
  const Clock::time_point now = Clock::now();
  if (now - last_taken_ < kExplainEvery || now < next_explain_) return;
  next_explain_ = now + kExplainEvery;
  std::string open;
  int n = 0;
  for (const auto& id : assigned_)
    if (auto it = eof_.find(id); it == eof_.end() || !it->second)
      if (++n <= 5) open += (open.empty() ? "" : ",") + id;
  spdlog::info(
      "Kafka source not drained yet. assigned={} without_end_signal={} first=[{}] "
      "cluster_down={} ends_unverified={}",
      assigned_.size(), n, open, reach_.down(), ends_unverified_);
}

// A partition we never read starts at offset 0 rather than OFFSET_BEGINNING: the latter
// costs a ListOffsets lookup that librdkafka 2.0 sometimes retries only after 500 ms,
// leaving a third of the partitions idle at start-up. Where retention has dropped offset 0,
// auto.offset.reset (earliest) moves to the log start.
static int64_t start_offset(const std::map<std::string, int64_t>& last, const std::string& id) {
  auto it = last.find(id);
  return it != last.end() ? it->second + 1 : 0;
}

// `partitions: all`: every partition of the topics, from the cluster's metadata, assigned
// without a group (no join, no rebalance). A topic the cluster does not know yet is asked
// for again a second later; partitions already assigned keep their place.
void KafkaSource::assign_all() {
  const Clock::time_point now = Clock::now();
  if (now < next_assign_) return;
  next_assign_ = now + std::chrono::seconds(1);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 1, nullptr, &md, kProbeMs);
  if (e) {
    if (md) rd_kafka_metadata_destroy(md);
    no_answer(e, rd_kafka_err2str(e));
    return;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
  size_t known = 0;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (!topics_.count(t.topic) || t.err || t.partition_cnt <= 0) continue;
    ++known;
    for (int32_t p = 0; p < t.partition_cnt; ++p) {
      std::string id = part_id(t.topic, p);
      if (!assigned_.insert(id).second) continue;
      eof_[id] = false;
      partition_index(id, t.topic);  // listed before its first record (the watermark waits)
      rd_kafka_topic_partition_list_add(list, t.topic, p)->offset = start_offset(last_, id);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (!admit(list)) {  // refused: nothing is read (poll() returns why)
    rd_kafka_topic_partition_list_destroy(list);
    return;
  }
  if (list->cnt) {
    spdlog::info("Kafka partitions assigned (every partition, no group). count={}", list->cnt);
    if (rd_kafka_error_t* err = rd_kafka_incremental_assign(rk_, list)) {
      spdlog::error("Kafka assign failed. error={}", rd_kafka_error_string(err));
      rd_kafka_error_destroy(err);
    }
    pause_held(list);
  }
  rd_kafka_topic_partition_list_destroy(list);
  all_assigned_ = known == topics_.size();
}

// After an outage, a partition we had read to its end may have grown while we could not
// see it, and librdkafka signals a partition's end once per offset: ask each such
// partition's leader for its end before drained() may say yes again. One bounded call:
// rd_kafka_offsets_for_times with OFFSET_END (-1, "latest") honours its timeout, where
// rd_kafka_query_watermark_offsets waits for its requests' own timeouts and retries (a poll
// stuck for minutes while a broker is down).
void KafkaSource::verify_ends() {
  next_verify_ = Clock::now() + std::chrono::seconds(1);
  // Per partition at its end: its end now, and where it starts when nothing was read from
  // it (an empty partition's end is its start, not 0, once retention deleted records).
  rd_kafka_topic_partition_list_t* ends = rd_kafka_topic_partition_list_new(8);
  rd_kafka_topic_partition_list_t* starts = rd_kafka_topic_partition_list_new(1);
  for (const std::string& id : assigned_) {
    auto eof = eof_.find(id);
    auto tp = split_id(id);
    if (eof == eof_.end() || !eof->second || !tp) continue;
    rd_kafka_topic_partition_list_add(ends, tp->first.c_str(), tp->second)->offset =
        RD_KAFKA_OFFSET_END;
    if (!last_.count(id))
      rd_kafka_topic_partition_list_add(starts, tp->first.c_str(), tp->second)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (auto* list : {ends, starts}) {
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt > 0)
      e = rd_kafka_offsets_for_times(rk_, list, kProbeMs);
    for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i)
      if (list->elems[i].err) e = list->elems[i].err;
  }
  for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < ends->cnt; ++i) {
    const rd_kafka_topic_partition_t& end = ends->elems[i];
    const std::string id = part_id(end.topic, end.partition);
    int64_t seen = 0;
    if (auto last = last_.find(id); last != last_.end())
      seen = last->second + 1;
    else if (auto* start = rd_kafka_topic_partition_list_find(starts, end.topic, end.partition))
      seen = start->offset;
    if (end.offset > seen) eof_[id] = false;
  }
  rd_kafka_topic_partition_list_destroy(ends);
  rd_kafka_topic_partition_list_destroy(starts);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Until the ends are known again, a run that stops when idle cannot say it is drained.
    if (e != ends_error_)
      spdlog::warn("Kafka partition ends could not be checked; asking again each second. error={}",
                   rd_kafka_err2str(e));
    ends_error_ = e;
    no_answer(e, rd_kafka_err2str(e));  // try again in a second (or on the next answer)
    return;
  }
  ends_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  ends_unverified_ = false;
}

// A member of a group with more members than partitions may get none: once the connect
// timeout passed without an assignment, this run has nothing to read.
bool KafkaSource::no_assignment_coming() const {
  if (Clock::now() - end_fixed_at_ < connect_timeout_) return false;
  if (!warned_unassigned_)
    spdlog::warn(
        "No Kafka partition was assigned within the connect timeout; nothing to read. "
        "group={}",
        props_.at("group.id"));
  warned_unassigned_ = true;
  return true;
}

bool KafkaSource::reached_ends() const {
  for (const auto& id : assigned_) {
    auto end = end_.find(id);
    if (end == end_.end() || past_end_.count(id)) continue;
    auto last = last_.find(id);
    if (last != last_.end() ? last->second + 1 >= end->second : end->second <= 0) continue;
    if (auto eof = eof_.find(id); eof == eof_.end() || !eof->second) return false;
  }
  return true;
}

// A message at or past its partition's fixed end is left for the next run; the partition
// is paused so that no more of it is fetched.
void KafkaSource::stop_at_end(const rd_kafka_message_t* m, const char* topic,
                              const std::string& id) {
  // Paused again each time: a rebalance that hands the partition back resumes it.
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic, m->partition);
  rd_kafka_pause_partitions(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (!past_end_.insert(id).second) return;
  spdlog::info("Kafka partition read to its end for this run. partition={} end={}", id, m->offset);
}

// Served on the polling thread (from rd_kafka_consume_batch_queue or consumer_close).
// Newly assigned partitions start just after the last position we consumed or restored.
void KafkaSource::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  self->reach_.answered();  // the group coordinator answered
  ++self->rebalances_;
  bool cooperative = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->rebalancing_ = false;
    if (!self->admit(parts)) {
      // Refused: poll() returns why and reads nothing more. The assignment is still taken
      // (paused), as the group protocol expects: a rebalance left open blocks the close.
      if (rd_kafka_error_t* e = cooperative ? rd_kafka_incremental_assign(rk, parts) : nullptr)
        rd_kafka_error_destroy(e);
      if (!cooperative) rd_kafka_assign(rk, parts);
      rd_kafka_pause_partitions(rk, parts);
      return;
    }
    for (int i = 0; i < parts->cnt; ++i) {
      auto& tp = parts->elems[i];
      std::string id = part_id(tp.topic, tp.partition);
      tp.offset = start_offset(self->last_, id);
      self->assigned_.insert(id);
      self->eof_[id] = false;
      // One process reads every partition (tasks: single): each is listed before its first
      // record, so the watermark waits for it (SPEC section 4: every partition's watermark).
      // Members of a tasks: partitions group list a partition once read or imported: a task
      // put no window frontier before its event-time partition is read.
      if (!self->membership_set_ || !self->membership_.tasks_by_partition)
        self->partition_index(id, tp.topic);
    }
    spdlog::info("Kafka partitions assigned. count={} cooperative={}", parts->cnt, cooperative);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts)) {
        spdlog::error("Kafka incremental assign failed. error={}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    // librdkafka keeps a partition's pause across a revoke and a new assignment: one held
    // (or read to its end) before is read again only once resumed; the held ones pause again.
    rd_kafka_resume_partitions(rk, parts);
    self->pause_held(parts);
  } else {
    self->revoked(parts);
    for (int i = 0; i < parts->cnt; ++i)
      self->assigned_.erase(part_id(parts->elems[i].topic, parts->elems[i].partition));
    spdlog::info("Kafka partitions revoked. count={} cooperative={} lost={}", parts->cnt,
                 cooperative, rd_kafka_assignment_lost(rk) != 0);
    if (!cooperative) self->assigned_.clear();
    if (self->defer_unassign(parts)) return;  // finish_hand_off unassigns
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts)) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }
}

// High watermark (as of the last fetch, kept locally by librdkafka) minus the next offset.
std::map<uint32_t, int64_t> KafkaSource::lag() const {
  std::map<uint32_t, int64_t> out;
  if (!rk_) return out;
  for (const std::string& id : assigned_) {
    auto tp = split_id(id);
    auto idx = index_.find(id);
    if (!tp || idx == index_.end()) continue;
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(rk_, tp->first.c_str(), tp->second, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
      continue;
    auto last = last_.find(id);
    int64_t next = last != last_.end() ? last->second + 1 : lo;
    out[idx->second] = std::max<int64_t>(0, hi - next);
  }
  return out;
}

}  // namespace pinstream::connectors::kafka
