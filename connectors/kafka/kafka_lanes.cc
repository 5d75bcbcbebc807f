// The order the Kafka source hands records out in. librdkafka fetches by bytes: one fetch
// brings up to max.partition.fetch.bytes of each partition, so a topic of small records
// (geo, user: ~110 bytes) runs thousands of records ahead of one of large records (pin:
// ~700 bytes), and its consumer queue hands out whole fetch responses one partition after
// another. A join of those topics then holds most of its parts waiting at every epoch end,
// and writes and deletes them in its state (bench/README.md, "End to end over Kafka").
// Here each partition's messages wait in its own queue (a lane, split from the consumer
// queue) and every poll takes an equal share of each lane, no lane more than kSlack records
// ahead of the slowest lane that has more to read: partition p of each topic advances in
// step, as the files source reads its partitions. A lane with more to read but nothing
// fetched yet holds the others back for source.kafka.max_idle_wait_ms at most, so a partition whose
// end cannot be reached (a high watermark past the last message) never stalls the rest.
// Prefetch is bounded per partition (kafka_settings.cc); a broker that stops fetching for
// those bounds is woken as soon as its lanes are empty (wake_fetchers).
#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "connectors/kafka/kafka_source_impl.h"

namespace pinstream::connectors::kafka {

core::Result<size_t> KafkaSource::poll(core::Batch& out, std::chrono::milliseconds timeout,
                                       size_t max_records) {
  PS_RETURN_IF_ERROR(fatal_);
  PS_RETURN_IF_ERROR(check_fatal());
  PS_RETURN_IF_ERROR(check_reachable());
  if (all_partitions_ && !all_assigned_ && !reach_.down()) assign_all();
  finish_hand_off();
  // About PollBudget::kBytes of records, decoded while still in the core's cache.
  max_records = budget_.records(std::max<size_t>(max_records, 1));
  const size_t first = out.size;
  size_t got = drain_consumer_queue(out);
  // A partition's messages fetched before its lane opened are in the consumer queue: all of
  // them are taken from there before any from its lane.
  while (open_lanes()) got += drain_consumer_queue(out);
  if (got < max_records) got += take_in_step(out, max_records - got);
  const Clock::duration wake_due = wake_fetchers(Clock::now());
  if (got == 0 && timeout.count() > 0) {
    // Not past the moment an empty lane's broker is to be woken.
    wait_for_messages(
        std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(std::min<Clock::duration>(
                              wake_due, std::chrono::milliseconds(1000)))));
    got += drain_consumer_queue(out);
    while (open_lanes()) got += drain_consumer_queue(out);
    got += take_in_step(out, max_records);
    wake_fetchers(Clock::now());
  }
  budget_.learn(out, first);
  if (got) {
    last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    last_taken_ = Clock::now();
  }
  return got;
}

// Serves the consumer queue (rebalances, client errors) without waiting. Messages found
// there belong to partitions whose lane did not exist when they were fetched: kept for
// their lane, or handed out now when it has none (it was revoked meanwhile, or not split).
size_t KafkaSource::drain_consumer_queue(core::Batch& out) {
  constexpr size_t kChunk = 1024;
  msgs_.resize(std::max<size_t>(msgs_.size(), kChunk));
  size_t got = 0;
  for (;;) {
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data(), kChunk);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = msgs_[static_cast<size_t>(i)];
      Lane* lane = nullptr;
      if (m->rkt) {
        const char* topic = rd_kafka_topic_name(m->rkt);
        auto find = [&] {
          for (auto& l : lanes_)
            if (l->partition == m->partition && l->topic == topic) return l.get();
          return static_cast<Lane*>(nullptr);
        };
        lane = find();
        // Assigned in this very drain (a rebalance served above): its lane opens now, so
        // its first messages wait there in step instead of being handed out at once.
        if (!lane && assigned_.count(part_id(topic, m->partition)) && open_lanes()) lane = find();
      }
      if (lane) {
        lane->early.push_back(m);
      } else if (revoking(m)) {
        rd_kafka_message_destroy(m);
      } else if (consume_one(out, m)) {
        ++got;
      }
    }
    if (static_cast<size_t>(n) < kChunk) break;
  }
  return got;
}

// Gives each newly assigned partition its lane, closes those of revoked partitions; true
// when a lane opened. A lane opening while others are under way starts level with the
// slowest of them, not at zero (it starts from its stored position, as they did).
bool KafkaSource::open_lanes() {
  for (size_t i = 0; i < lanes_.size();) {
    if (assigned_.count(lanes_[i]->id)) {
      ++i;
      continue;
    }
    close_lane(*lanes_[i]);
    lanes_.erase(lanes_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  bool opened = false;
  // A lane whose partition queue librdkafka could not give yet gets it on a later call; its
  // messages meanwhile reach the consumer queue and are kept in its `early` list.
  for (auto& l : lanes_)
    if (!l->q) opened = attach_queue(*l) || opened;
  if (lanes_.size() == assigned_.size()) return opened;
  int64_t level = INT64_MAX;
  for (const auto& l : lanes_) level = std::min(level, l->handed);
  if (level == INT64_MAX) level = 0;
  for (const std::string& id : assigned_) {
    if (std::any_of(lanes_.begin(), lanes_.end(), [&](const auto& l) { return l->id == id; }))
      continue;
    auto tp = split_id(id);
    if (!tp) continue;
    auto lane = std::make_unique<Lane>();
    lane->id = id;
    lane->topic = tp->first;
    lane->partition = tp->second;
    lane->handed = level;
    attach_queue(*lane);
    lanes_.push_back(std::move(lane));
    opened = true;
  }
  return opened;
}

bool KafkaSource::attach_queue(Lane& lane) {
  rd_kafka_queue_t* q = rd_kafka_queue_get_partition(rk_, lane.topic.c_str(), lane.partition);
  if (!q) return false;
  rd_kafka_queue_forward(q, nullptr);  // from now on its messages stay in its queue
  rd_kafka_queue_io_event_enable(q, wake_[1], "w", 1);
  lane.q = q;
  return true;
}

void KafkaSource::close_lane(Lane& lane) {
  for (rd_kafka_message_t* m : lane.early) rd_kafka_message_destroy(m);
  lane.early.clear();
  if (lane.q) {
    rd_kafka_queue_io_event_enable(lane.q, -1, nullptr, 0);
    rd_kafka_queue_destroy(lane.q);
    lane.q = nullptr;
  }
}

// Whether `lane` bounds how far the others may run ahead: it has messages waiting, or more
// to read that has not arrived yet (for source.kafka.max_idle_wait_ms at most). Keeps
// `was_empty` / `empty_since` up to date for wake_fetchers.
bool KafkaSource::holds_back(Lane& lane, Clock::time_point now) {
  if (!lane.early.empty() || (lane.q && rd_kafka_queue_length(lane.q) > 0)) {
    lane.was_empty = false;
    lane.woken = Clock::time_point{};  // refilled: the next wake-up is not a retry
    lane.wake_backoff = kWakeAfter;
    return true;
  }
  if (!more_to_read(lane)) {
    lane.was_empty = false;
    return false;
  }
  if (!lane.was_empty) {
    lane.was_empty = true;
    lane.empty_since = now;
  }
  return now - lane.empty_since < max_idle_wait_;
}

bool KafkaSource::more_to_read(const Lane& lane) {
  if (past_end_.count(lane.id)) return false;
  auto eof = eof_.find(lane.id);
  if (eof != eof_.end() && eof->second) return false;
  auto last = last_.find(lane.id);
  const int64_t next = last != last_.end() ? last->second + 1 : 0;
  if (has_end_) {
    auto end = end_.find(lane.id);
    if (end == end_.end() || next >= end->second) return false;
  }
  int64_t lo = 0, hi = -1;
  rd_kafka_get_watermark_offsets(rk_, lane.topic.c_str(), lane.partition, &lo, &hi);
  return !(hi >= 0 && hi <= std::max(next, lo));
}

// librdkafka 2.0 stops fetching a partition while its queue is over queued.min.messages or
// queued.max.messages.kbytes, and once every partition of a broker is, that broker's thread
// sleeps up to 1 s: reading a queue down does not wake it (librdkafka 2.3 added
// fetch.queue.backoff.ms for this). In step, one empty lane holds every other back, so the
// whole source would stall. A seek wakes it ("seek done"): a lane found empty for kWakeAfter
// with more to read is sought to its next offset. Nothing is read twice or skipped: a fetch
// in flight for it comes back outdated and is dropped by librdkafka, and the partition is
// fetched again from the offset after the last one handed out. One lane per kWakeAfter (the
// longest empty: a broker woken refills all its lanes), and a lane woken in vain waits
// twice as long each time, up to 1 s (a high watermark it cannot reach).
Clock::duration KafkaSource::wake_fetchers(Clock::time_point now) {
  constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
  Clock::duration due = Clock::duration::max();
  Lane* pick = nullptr;
  // Lanes found empty with more to read by the last take_in_step (holds_back).
  for (auto& l : lanes_) {
    if (!l->was_empty || !l->q || held_.count(l->id) || !last_.count(l->id)) continue;
    const Clock::time_point at = std::max(
        {l->empty_since + kWakeAfter, l->woken + l->wake_backoff, last_wake_ + kWakeAfter});
    if (at > now) {
      due = std::min<Clock::duration>(due, at - now);
    } else if (!pick || l->empty_since < pick->empty_since) {
      pick = l.get();
    }
  }
  if (!pick) return due;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, pick->topic.c_str(), pick->partition)->offset =
      last_[pick->id] + 1;
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, list, 0)) rd_kafka_error_destroy(e);
  rd_kafka_topic_partition_list_destroy(list);
  if (pick->woken != Clock::time_point{})
    pick->wake_backoff = std::min<Clock::duration>(pick->wake_backoff * 2, kMaxBackoff);
  pick->woken = now;
  last_wake_ = now;
  ++wakes_;
  return kWakeAfter;
}

// Rounds over the lanes, each taking up to an equal share of what is left to hand out and
// never more than kSlack past the slowest lane that holds the others back.
size_t KafkaSource::take_in_step(core::Batch& out, size_t max_records) {
  if (lanes_.empty()) return 0;
  const Clock::time_point now = Clock::now();
  size_t got = 0;
  for (;;) {
    int64_t slowest = INT64_MAX;
    for (auto& l : lanes_)
      if (holds_back(*l, now)) slowest = std::min(slowest, l->handed);
    if (slowest == INT64_MAX) break;  // nothing to read anywhere
    const size_t share = std::max<size_t>(1, (max_records - got) / lanes_.size());
    size_t round = 0;
    for (auto& l : lanes_) {
      if (got + round >= max_records) break;
      const int64_t room = slowest + kSlack - l->handed;
      if (room <= 0) continue;
      const size_t n = std::min({share, static_cast<size_t>(room), max_records - got - round});
      round += take_from(*l, out, n);
    }
    got += round;
    if (round == 0 || got >= max_records) break;
  }
  return got;
}

// Up to `n` records from one lane (its early messages first); the partition's errors and
// end signals met on the way are handled as they come.
size_t KafkaSource::take_from(Lane& lane, core::Batch& out, size_t n) {
  size_t got = 0;
  while (got < n && !lane.early.empty()) {
    rd_kafka_message_t* m = lane.early.front();
    lane.early.pop_front();
    if (consume_one(out, m)) ++got;
  }
  while (lane.q && got < n) {
    if (msgs_.size() < n - got) msgs_.resize(n - got);
    ssize_t k = rd_kafka_consume_batch_queue(lane.q, 0, msgs_.data(), n - got);
    if (k <= 0) break;
    for (ssize_t i = 0; i < k; ++i)
      if (consume_one(out, msgs_[static_cast<size_t>(i)])) ++got;
  }
  lane.handed += static_cast<int64_t>(got);
  return got;
}

// Sleeps until librdkafka signals that a lane or the consumer queue got messages (or the
// timeout, bounded by kLookAgain so a lane held back by a late one is looked at again).
void KafkaSource::wait_for_messages(std::chrono::milliseconds timeout) {
  pollfd p{wake_[0], POLLIN, 0};
  constexpr auto kLookAgain = std::chrono::milliseconds(200);
  const auto wait = std::min<std::chrono::milliseconds>(timeout, kLookAgain);
  if (::poll(&p, 1, static_cast<int>(wait.count())) > 0) {
    char buf[256];
    while (::read(wake_[0], buf, sizeof buf) > 0) {
    }
  }
}

}  // namespace pinstream::connectors::kafka
