#include "connectors/kafka/kafka_source.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/kafka_source_impl.h"

namespace pinstream::connectors::kafka {
using core::Status;

std::optional<int64_t> parse_offset(const std::string& s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::pair<std::string, int32_t>> split_id(const std::string& id) {
  auto slash = id.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  auto p = parse_offset(id.substr(slash + 1));
  if (!p || *p < 0 || *p > INT32_MAX) return std::nullopt;
  return std::make_pair(id.substr(0, slash), static_cast<int32_t>(*p));
}

std::string part_id(const std::string& topic, int32_t p) { return topic + "/" + std::to_string(p); }

KafkaSource::KafkaSource(KafkaSettings s)
    : props_(std::move(s.props)),
      topics_(std::move(s.topics)),
      reach_("Kafka at " + props_["bootstrap.servers"],
             "check source.kafka.bootstrap_servers and that the brokers are up", s.connect_timeout),
      connect_timeout_(s.connect_timeout),
      max_idle_wait_(s.max_idle_wait),
      all_partitions_(s.all_partitions),
      instance_from_host_(s.instance_from_host),
      strategy_given_(s.strategy_given) {
  if (s.msk_iam) auth_ = std::make_unique<MskIamAuth>(s.region, aws::default_credentials_chain());
}

KafkaSource::~KafkaSource() {
  if (rk_) {
    spdlog::debug("Kafka source closing. fetch_wakeups={}", wakes_);
    for (auto& lane : lanes_) close_lane(*lane);
    if (queue_) {
      rd_kafka_queue_io_event_enable(queue_, -1, nullptr, 0);
      rd_kafka_queue_destroy(queue_);
    }
    close_bounded();
  }
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

// rd_kafka_consumer_close waits for the group coordinator, up to session.timeout.ms (45 s by
// default) or longer when no broker answers: a daemon stopped after its brokers went away
// would hang. The close runs on a queue served here for at most kCloseTimeout; then the
// handle is destroyed without leaving the group (its members expire with the session; our
// positions are in the state, so nothing is lost).
void KafkaSource::close_bounded() {
  constexpr auto kCloseTimeout = std::chrono::seconds(3);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk_);
  bool closed = false;
  closing_ = true;
  rebalancing_ = false;
  if (revoke_parts_) {  // a hand-off the run did not finish: the group may go on
    rd_kafka_assign(rk_, nullptr);
    rd_kafka_topic_partition_list_destroy(revoke_parts_);
    revoke_parts_ = nullptr;
    revoking_.clear();
  }
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk_, q)) {
    spdlog::warn("Kafka consumer close failed. error={}", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  } else {
    const auto deadline = Clock::now() + kCloseTimeout;
    while (!(closed = rd_kafka_consumer_closed(rk_) != 0) && Clock::now() < deadline) {
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 100);
      if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)  // the final revoke
        on_rebalance(rk_, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), this);
      if (ev) rd_kafka_event_destroy(ev);
    }
  }
  rd_kafka_queue_destroy(q);
  if (!closed)
    spdlog::warn(
        "Kafka consumer group could not be left within {} s (no broker answered); closing "
        "without leaving it: the group rebalances once the session times out. group={}",
        kCloseTimeout.count(), props_["group.id"]);
  rd_kafka_destroy_flags(rk_, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

Status KafkaSource::open(const core::Positions& restore) {
  for (const auto& [id, pos] : restore) {
    auto tp = split_id(id);
    if (!tp || !topics_.count(tp->first)) continue;  // another source's position
    auto off = parse_offset(pos);
    if (!off) return Status::invalid("restored Kafka position is not an offset: " + id + "=" + pos);
    last_[id] = *off;
  }
  PS_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, make_conf(props_));
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaSource::on_rebalance);
  rd_kafka_conf_set_error_cb(conf, &KafkaSource::on_error);
  rd_kafka_conf_set_opaque(conf, this);
  if (auth_) MskIamAuth::prepare(conf, &KafkaSource::on_token_refresh);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    return Status::invalid(std::string("cannot create a Kafka consumer: ") + err);
  }
  if (auth_) PS_RETURN_IF_ERROR(MskIamAuth::start(rk_));
  rd_kafka_poll_set_consumer(rk_);
  if (!all_partitions_) PS_RETURN_IF_ERROR(subscribe());  // else assign_all on the first polls
  queue_ = rd_kafka_queue_get_consumer(rk_);
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0)
    return Status::io("cannot create a pipe for the Kafka consumer's wake-ups");
  rd_kafka_queue_io_event_enable(queue_, wake_[1], "w", 1);
  reach_.start(Clock::now());  // the first poll probes the cluster
  spdlog::info("Kafka source {}. topics={} group={} restored_partitions={}",
               all_partitions_ ? "reads every partition (no group join)" : "subscribed",
               topics_.size(), props_["group.id"], last_.size());
  return Status::ok();
}

Status KafkaSource::subscribe() {
  rd_kafka_topic_partition_list_t* subs =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size()));
  for (const auto& [t, s] : topics_)
    rd_kafka_topic_partition_list_add(subs, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (e) return Status::unavailable(std::string("subscribe failed: ") + rd_kafka_err2str(e));
  return Status::ok();
}

// Returns false for errors, end signals and messages past the fixed end.
bool KafkaSource::consume_one(core::Batch& out, rd_kafka_message_t* m) {
  bool taken = false;
  if (!m->err) {
    taken = take(out, m);
    reach_.answered();
  } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (m->rkt) eof_[part_id(rd_kafka_topic_name(m->rkt), m->partition)] = true;
    reach_.answered();
  } else {
    no_answer(m->err, rd_kafka_message_errstr(m));
  }
  // Once per kind of error: librdkafka retries.
  if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && m->err != last_error_) {
    last_error_ = m->err;
    spdlog::warn("Kafka consumer error; librdkafka retries. error={}", rd_kafka_message_errstr(m));
  }
  rd_kafka_message_destroy(m);
  return taken;
}

core::Positions KafkaSource::positions() const {
  core::Positions p;
  for (const auto& [id, off] : last_) p[id] = std::to_string(off);
  return p;
}

// Commits offset + 1 (the next to read) for the partitions assigned to us, asynchronously:
// a partition revoked meanwhile belongs to another member, whose commits would be undone.
Status KafkaSource::on_epoch_committed(const core::Positions& committed) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(0);
  for (const auto& [id, pos] : committed) {
    auto tp = split_id(id);
    auto off = parse_offset(pos);
    if (!tp || !off || !topics_.count(tp->first) || !(assigned_.count(id) || revoking_.count(id)))
      continue;
    rd_kafka_topic_partition_list_add(list, tp->first.c_str(), tp->second)->offset = *off + 1;
  }
  rd_kafka_resp_err_t e = list->cnt ? rd_kafka_commit(rk_, list, 1) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(list);
  if (e) return Status::unavailable(std::string("offset commit failed: ") + rd_kafka_err2str(e));
  return Status::ok();
}

// Served on librdkafka's SASL background thread (MskIamAuth::start): never logs the token.
void KafkaSource::on_token_refresh(rd_kafka_t* rk, const char*, void* opaque) {
  static_cast<KafkaSource*>(opaque)->auth_->refresh(rk);
}

// Served on the polling thread: client-level errors (connections, brokers down) come here,
// not as messages.
void KafkaSource::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (e != self->last_error_) {  // once per kind of error: librdkafka retries
    self->last_error_ = e;
    spdlog::warn("Kafka client error; librdkafka retries. error={}", reason ? reason : "");
  }
  self->no_answer(e, reason);
}

// Records errors that mean a broker did not answer (as opposed to an answer that refuses).
// Where a partition ends may have moved while we could not see it: drained() waits until
// the ends are checked again (verify_ends).
void KafkaSource::no_answer(rd_kafka_resp_err_t e, const char* reason) {
  if (e != RD_KAFKA_RESP_ERR__TRANSPORT && e != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN &&
      e != RD_KAFKA_RESP_ERR__RESOLVE && e != RD_KAFKA_RESP_ERR__AUTHENTICATION &&
      e != RD_KAFKA_RESP_ERR__SSL && e != RD_KAFKA_RESP_ERR__TIMED_OUT)
    return;
  // "1/1 brokers are down" says less than the connection error before it.
  const bool keep = e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !reach_.last_error().empty();
  reach_.failed(Clock::now(), keep ? reach_.last_error() : std::string(reason ? reason : ""));
  ends_unverified_ = true;
}

Status KafkaSource::check_fatal() const {
  char err[256];
  rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk_, err, sizeof err);
  if (!e) return Status::ok();
  std::string msg = std::string("Kafka consumer failed fatally: ") + err;
  if (e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID)
    msg += "; another consumer joined with group.instance.id " + props_.at("group.instance.id") +
           ": give each process its own source.kafka.group_instance_id";
  return Status::internal(msg);
}

// While nothing has answered since open() or since a transport error, asks the cluster
// for metadata (at most once a second, blocking up to kProbeMs: nothing can be read
// meanwhile anyway). Fails once unreachable for the connect timeout (see set_bounded).
Status KafkaSource::check_reachable() {
  Clock::time_point now = Clock::now();
  if (reach_.down() && now >= next_probe_) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 0, nullptr, &md, kProbeMs);
    if (md) rd_kafka_metadata_destroy(md);
    now = Clock::now();
    next_probe_ = now + std::chrono::seconds(1);
    if (!e) {
      reach_.answered();
    } else if (reach_.last_error().empty()) {
      reach_.failed(now, rd_kafka_err2str(e));
    }
  }
  if (!reach_.down()) {
    if (warned_)
      spdlog::info("Kafka cluster answers again. servers={}", props_.at("bootstrap.servers"));
    warned_ = false;
    if (ends_unverified_ && now >= next_verify_) verify_ends();
    return Status::ok();
  }
  PS_RETURN_IF_ERROR(reach_.check(now, bounded_));
  if (reach_.timed_out(now) && !warned_) {
    warned_ = true;
    spdlog::warn("{}; retrying", reach_.describe());
  }
  return Status::ok();
}

// Returns false when the message is past the fixed end (not handed out).
bool KafkaSource::take(core::Batch& out, const rd_kafka_message_t* m) {
  // Per message, a lookup by (topic handle, partition) instead of building the partition
  // id and three map lookups by string (map nodes are stable, so pointers stay valid), and
  // none while messages come from the partition of the one before (a lane's run).
  // The topic name is compared too, in case librdkafka reuses a handle's address.
  const char* topic = rd_kafka_topic_name(m->rkt);
  if (!last_seen_ || m->rkt != last_seen_rkt_ || m->partition != last_seen_partition_) {
    last_seen_ = &seen_[{m->rkt, m->partition}];
    last_seen_rkt_ = m->rkt;
    last_seen_partition_ = m->partition;
  }
  Seen& seen = *last_seen_;
  if (!seen.last || seen.topic != topic) {
    std::string id = part_id(topic, m->partition);
    seen.topic = topic;
    seen.index = partition_index(id, topic);
    seen.last = &last_[id];
    seen.eof = &eof_[id];
    auto end = end_.find(id);
    seen.end = !has_end_ ? INT64_MAX : end != end_.end() ? end->second : 0;
  }
  if (m->offset >= seen.end) {
    stop_at_end(m, topic, part_id(topic, m->partition));
    return false;
  }
  core::RawRecord& r = out.next();
  r.partition = seen.index;
  char digits[24];
  r.position.assign(digits, std::to_chars(digits, digits + sizeof digits, m->offset).ptr);
  if (m->payload) {
    const auto* payload = static_cast<const char*>(m->payload);
    // A slot's buffer grows to the record's size, not to twice its old capacity as assign
    // would: slots are reused for records of every topic, and doubling left each of the
    // ~50k slots in flight at about twice the largest record it ever held.
    if (m->len > r.bytes.capacity())
      r.bytes = std::string(payload, m->len);
    else
      r.bytes.assign(payload, m->len);
  }
  rd_kafka_timestamp_type_t tt;
  int64_t ts = rd_kafka_message_timestamp(m, &tt);
  r.source_time_micros = ts > 0 ? ts * 1000 : 0;
  *seen.last = m->offset;
  *seen.eof = false;
  return true;
}

uint32_t KafkaSource::partition_index(const std::string& id, const std::string& topic) {
  auto it = index_.find(id);
  if (it != index_.end()) return it->second;
  auto idx = static_cast<uint32_t>(refs_.size());
  refs_.push_back({id, topics_.at(topic)});
  index_[id] = idx;
  return idx;
}

core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings) {
  PS_ASSIGN_OR_RETURN(auto s, read_settings(bindings, settings));
  return std::unique_ptr<Source>(std::make_unique<KafkaSource>(std::move(s)));
}

}  // namespace pinstream::connectors::kafka
