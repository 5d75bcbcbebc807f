#include "connectors/kinesis/kinesis_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "connectors/kinesis/kinesis_api.h"
#include "connectors/kinesis/shard_ends.h"
#include "connectors/reachability.h"

namespace pinstream::connectors::kinesis {
using core::Status;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct Settings {
  ApiConfig api;
  int64_t start_timestamp_ms = 0;
  milliseconds connect_timeout{30000};
  milliseconds refresh{10000}, min_call{200}, backoff_base{100}, backoff_max{5000};
};

struct Shard {
  std::string stream;  // Kinesis stream name
  std::string id;      // shardId
  std::string parent, adjacent_parent;
  uint32_t partition = 0;
  std::string iterator;        // empty: acquire one before the next GetRecords
  std::string last_seq;        // last record returned (or restored); never parsed
  bool finished = false;       // closed and read to its end
  bool caught_up = false;      // the last GetRecords returned nothing and MillisBehindLatest 0
  int64_t millis_behind = -1;  // MillisBehindLatest of the last GetRecords (-1: none yet)
  Clock::time_point next_call{};
  int failures = 0;
};

class KinesisSource final : public Source {
 public:
  KinesisSource(Settings s, std::map<std::string, uint32_t> streams)
      : settings_(std::move(s)), streams_(std::move(streams)), rng_(std::random_device{}()) {}

  void set_bounded(bool bounded) override { bounded_ = bounded; }

  Status open(const core::Positions& restore) override {
    restore_ = restore;
    PS_ASSIGN_OR_RETURN(api_, Api::create(settings_.api));
    reach_.emplace("Kinesis at " + api_->endpoint(),
                   "check source.kinesis.endpoint and that the service is up",
                   settings_.connect_timeout);
    reach_->start(Clock::now());
    // Unreachable endpoints and missing streams are retried by poll(); only a fatal answer
    // (bad credentials, bad request) fails here.
    Status st = refresh_shards();
    if (!st.is_ok() && !st.retryable() && st.code() != core::StatusCode::kNotFound) return st;
    return Status::ok();
  }

  core::Result<size_t> poll(core::Batch& out, milliseconds timeout, size_t max_records) override {
    const Clock::time_point deadline = Clock::now() + timeout;
    const size_t start = out.size;
    max_records = std::max<size_t>(max_records, 1);
    for (;;) {
      PS_RETURN_IF_ERROR(check_reachable());
      Clock::time_point now = Clock::now();
      if (now >= next_list_) {
        Status st = refresh_shards();
        if (!st.is_ok() && !st.retryable() && st.code() != core::StatusCode::kNotFound) return st;
      }
      Clock::time_point wake = std::min(deadline, next_list_);
      for (size_t n = 0; n < shards_.size() && out.size - start < max_records; ++n) {
        Shard& sh = shards_[(rr_ + n) % shards_.size()];
        if (sh.finished || !parents_finished(sh) || at_fixed_end(sh)) continue;
        if (now < sh.next_call) {
          wake = std::min(wake, sh.next_call);
          continue;
        }
        PS_RETURN_IF_ERROR(read_shard(sh, out, max_records - (out.size - start)));
        wake = std::min(wake, sh.next_call);
        now = Clock::now();
      }
      if (!shards_.empty()) rr_ = (rr_ + 1) % shards_.size();
      if (out.size > start) return out.size - start;
      now = Clock::now();
      if (now >= deadline) return size_t{0};
      std::this_thread::sleep_until(std::max(wake, now + milliseconds(1)));
    }
  }

  const std::vector<core::PartitionRef>& partitions() const override { return refs_; }

  core::Positions positions() const override {
    core::Positions p;
    for (const auto& sh : shards_)
      if (!sh.last_seq.empty()) p[refs_[sh.partition].id] = sh.last_seq;
    return p;
  }

  std::map<uint32_t, int64_t> lag() const override {
    std::map<uint32_t, int64_t> out;
    for (const auto& sh : shards_)
      if (sh.millis_behind >= 0) out[sh.partition] = sh.finished ? 0 : sh.millis_behind;
    return out;
  }
  LagUnit lag_unit() const override { return LagUnit::kMillis; }

  // Lists the shards (retrying within the connect timeout) and fixes each one's end; see
  // shard_ends.h.
  core::Result<core::Positions> fix_end_positions() override {
    core::Positions out;
    for (const auto& [stream, index] : streams_) {
      std::vector<ShardInfo> listed;
      for (;;) {
        ApiError e = api_->list_shards(stream, listed);
        note(e);
        if (e.ok()) break;
        if (e.kind != ErrorKind::kRetryable) return e.to_status();
        PS_RETURN_IF_ERROR(reach_->check(Clock::now(), /*bounded=*/true));
        std::this_thread::sleep_for(jitter(1));
      }
      for (const ShardInfo& info : listed) {
        add_shard(stream, info);
        const std::string key = stream + "/" + info.shard_id;
        PS_ASSIGN_OR_RETURN(ShardEnds::End end, shard_end(stream, info, key));
        out[key] = ShardEnds::describe(end);
        ends_.set(key, std::move(end));
      }
    }
    return out;
  }

  bool drained() const override {
    if (ends_.fixed())
      return listed_ && reach_ && !reach_->down() &&
             std::all_of(shards_.begin(), shards_.end(),
                         [this](const Shard& s) { return at_fixed_end(s); });
    if (!listed_ || relist_pending_ || !reach_ || reach_->down()) return false;
    return std::all_of(shards_.begin(), shards_.end(),
                       [](const Shard& s) { return s.finished || s.caught_up; });
  }

 private:
  // One GetRecords call on `sh` (acquiring an iterator first when needed).
  Status read_shard(Shard& sh, core::Batch& out, size_t room) {
    const Clock::time_point now = Clock::now();
    sh.next_call = now + settings_.min_call;
    if (sh.iterator.empty()) {
      ApiError e = acquire_iterator(sh);
      note(e);
      if (e.kind == ErrorKind::kRetryable || e.kind == ErrorKind::kExpiredIterator) {
        back_off(sh, e);
        return Status::ok();
      }
      if (e.kind == ErrorKind::kNotFound) {  // trimmed away or deleted: nothing left to read
        spdlog::warn("Kinesis shard is gone; treating it as finished. shard={} error={}",
                     refs_[sh.partition].id, e.message);
        finish(sh, /*relist=*/true);
        return Status::ok();
      }
      if (!e.ok()) return e.to_status();
    }
    GetRecordsResult res;
    ApiError e = api_->get_records(sh.iterator, room, sh.partition, out, res);
    note(e);
    if (!e.ok()) sh.caught_up = false;  // where the shard ends is unknown until an answer says so
    if (e.kind == ErrorKind::kExpiredIterator) {
      sh.iterator.clear();  // re-acquire after last_seq on the next round
      sh.next_call = now;
      return Status::ok();
    }
    if (e.kind == ErrorKind::kRetryable) {
      back_off(sh, e);
      return Status::ok();
    }
    if (!e.ok()) return e.to_status();
    sh.failures = 0;
    if (ends_.fixed()) res.count = ends_.clip(refs_[sh.partition].id, out, out.size - res.count);
    if (res.count) sh.last_seq = out.records[out.size - 1].position;
    sh.caught_up = res.count == 0 && res.millis_behind_latest == 0;
    sh.millis_behind = res.millis_behind_latest;
    for (const ShardInfo& child : res.child_shards) add_shard(sh.stream, child);
    if (res.next_iterator) {
      sh.iterator = std::move(*res.next_iterator);
    } else {
      finish(sh, /*relist=*/res.child_shards.empty());
    }
    return Status::ok();
  }

  bool at_fixed_end(const Shard& sh) const {
    return ends_.fixed() && ends_.done(refs_[sh.partition].id, sh.last_seq, sh.finished);
  }

  core::Result<ShardEnds::End> shard_end(const std::string& stream, const ShardInfo& info,
                                         const std::string& key) {
    ShardEnds::End end;
    if (info.closed) {
      end.kind = ShardEnds::Kind::kClosed;
      return end;
    }
    const std::string& after = shards_[index_.at(key)].last_seq;
    std::string last;
    ApiError e = scan_to_tip(*api_, stream, info.shard_id, after, last);
    note(e);
    if (!e.ok()) return e.to_status();
    if (last.empty()) last = after;
    end.kind = last.empty() ? ShardEnds::Kind::kEmpty : ShardEnds::Kind::kSequence;
    end.sequence = last;
    return end;
  }

  ApiError acquire_iterator(Shard& sh) {
    if (!sh.last_seq.empty())
      return api_->get_shard_iterator(sh.stream, sh.id, "AFTER_SEQUENCE_NUMBER", sh.last_seq,
                                      sh.iterator);
    if (settings_.start_timestamp_ms > 0)
      return api_->get_shard_iterator(sh.stream, sh.id, "AT_TIMESTAMP", "", sh.iterator,
                                      static_cast<double>(settings_.start_timestamp_ms) / 1000.0);
    return api_->get_shard_iterator(sh.stream, sh.id, "TRIM_HORIZON", "", sh.iterator);
  }

  // Whether the endpoint answered the call that returned `e` (an error answer is an answer).
  void note(const ApiError& e) {
    if (e.no_answer)
      reach_->failed(Clock::now(), e.message);
    else
      reach_->answered();
  }

  // Fails once the endpoint stayed unreachable for the connect timeout (see set_bounded);
  // an unbounded daemon that once reached it logs once and keeps retrying.
  Status check_reachable() {
    const Clock::time_point now = Clock::now();
    if (!reach_->down()) {
      if (warned_) spdlog::info("Kinesis endpoint answers again. endpoint={}", api_->endpoint());
      warned_ = false;
      return Status::ok();
    }
    PS_RETURN_IF_ERROR(reach_->check(now, bounded_));
    if (reach_->timed_out(now) && !warned_) {
      warned_ = true;
      spdlog::warn("{}; retrying", reach_->describe());
    }
    return Status::ok();
  }

  // A closed shard is read to its end. Unless the server named its children (ChildShards),
  // they may not be known yet: list again now.
  void finish(Shard& sh, bool relist) {
    sh.finished = true;
    sh.caught_up = true;
    sh.iterator.clear();
    if (!relist) return;
    relist_pending_ = true;
    next_list_ = Clock::now();
  }

  // Full jitter in [d/2, d] with d = base * 2^failures, capped.
  void back_off(Shard& sh, const ApiError& e) {
    sh.failures = std::min(sh.failures + 1, 16);
    sh.next_call = Clock::now() + jitter(sh.failures);
    spdlog::debug("Kinesis call failed; backing off. shard={} failures={} error={}",
                  refs_[sh.partition].id, sh.failures, e.message);
  }

  milliseconds jitter(int failures) {
    int64_t d = std::min<int64_t>(settings_.backoff_max.count(), settings_.backoff_base.count()
                                                                     << std::min(failures, 20));
    std::uniform_int_distribution<int64_t> dist(d / 2, std::max<int64_t>(d, 1));
    return milliseconds(dist(rng_));
  }

  bool parents_finished(const Shard& sh) const {
    for (const std::string* p : {&sh.parent, &sh.adjacent_parent}) {
      if (p->empty()) continue;
      auto it = index_.find(sh.stream + "/" + *p);
      if (it != index_.end() && !shards_[it->second].finished) return false;
    }
    return true;
  }

  // Adds a shard the first time it is seen; its partition index stays stable.
  void add_shard(const std::string& stream, const ShardInfo& info) {
    std::string key = stream + "/" + info.shard_id;
    if (auto it = index_.find(key); it != index_.end()) {
      Shard& known = shards_[it->second];
      if (known.parent.empty()) known.parent = info.parent;
      if (known.adjacent_parent.empty()) known.adjacent_parent = info.adjacent_parent;
      return;
    }
    Shard sh;
    sh.stream = stream;
    sh.id = info.shard_id;
    sh.parent = info.parent;
    sh.adjacent_parent = info.adjacent_parent;
    sh.partition = static_cast<uint32_t>(refs_.size());
    if (auto r = restore_.find(key); r != restore_.end()) sh.last_seq = r->second;
    refs_.push_back({key, streams_.at(stream)});
    index_[key] = shards_.size();
    shards_.push_back(std::move(sh));
  }

  // ListShards on every stream; schedules the next listing.
  Status refresh_shards() {
    Status result;
    bool all_ok = true;
    for (const auto& [stream, index] : streams_) {
      std::vector<ShardInfo> listed;
      ApiError e = api_->list_shards(stream, listed);
      note(e);
      if (!e.ok()) {
        all_ok = false;
        spdlog::warn("Kinesis ListShards failed; will retry. stream={} error={}", stream,
                     e.message);
        if (result.is_ok()) result = e.to_status();
        if (e.no_answer) break;  // the other streams would wait for the same silent endpoint
        continue;
      }
      for (const ShardInfo& info : listed) add_shard(stream, info);
    }
    if (all_ok) {
      listed_ = true;
      relist_pending_ = false;
      list_failures_ = 0;
      next_list_ = Clock::now() + settings_.refresh;
    } else {
      relist_pending_ = listed_;  // shards may have changed unseen: not drained until listed again
      list_failures_ = std::min(list_failures_ + 1, 16);
      next_list_ = Clock::now() + jitter(list_failures_);
    }
    return result;
  }

  Settings settings_;
  std::map<std::string, uint32_t> streams_;  // Kinesis stream name -> pipeline stream index
  std::mt19937_64 rng_;
  std::unique_ptr<Api> api_;
  std::optional<Reachability> reach_;  // set by open(), once the endpoint is known
  bool bounded_ = false, warned_ = false;
  core::Positions restore_;
  std::deque<Shard> shards_;             // a deque: adding a child keeps references to others valid
  std::map<std::string, size_t> index_;  // "<stream>/<shardId>" -> shards_ index
  std::vector<core::PartitionRef> refs_;
  size_t rr_ = 0;  // round-robin start, so no shard starves when batches fill up
  bool listed_ = false, relist_pending_ = false;
  int list_failures_ = 0;
  Clock::time_point next_list_{};
  ShardEnds ends_;  // --available-now
};

template <typename T>
bool take(core::Result<T> r, T& into, Status& error) {
  if (!r) {
    error = r.error();
    return false;
  }
  into = std::move(*r);
  return true;
}

bool read_ms(const core::ConfigNode& s, const char* key, milliseconds& into, Status& error) {
  int64_t v = 0;
  if (!take(s.get_int(key, into.count()), v, error)) return false;
  if (v < 0) {
    error = s.find(key)->error("must not be negative");
    return false;
  }
  into = milliseconds(v);
  return true;
}

}  // namespace

core::Result<std::unique_ptr<Source>> make_source(const std::vector<StreamBinding>& bindings,
                                                  const core::ConfigNode* settings) {
  Status error;
  Settings s;
  s.api.region = aws::region_from_environment();
  if (settings && settings->is_map()) {
    int64_t timeout = s.api.timeout_ms;
    if (!take(settings->get_string("endpoint", ""), s.api.endpoint, error) ||
        !take(settings->get_string("region", s.api.region), s.api.region, error) ||
        !take(settings->get_int("start_timestamp_ms", 0), s.start_timestamp_ms, error) ||
        !take(settings->get_int("request_timeout_ms", timeout), timeout, error) ||
        !read_ms(*settings, "shard_refresh_interval_ms", s.refresh, error) ||
        !read_ms(*settings, "min_call_interval_ms", s.min_call, error) ||
        !read_ms(*settings, "backoff_base_ms", s.backoff_base, error) ||
        !read_ms(*settings, "backoff_max_ms", s.backoff_max, error) ||
        !read_ms(*settings, "connect_timeout_ms", s.connect_timeout, error)) {
      return error;
    }
    if (s.connect_timeout.count() == 0) {
      error =
          settings->find("connect_timeout_ms")->error("must be a positive number of milliseconds");
      return error;
    }
    s.api.timeout_ms = static_cast<long>(timeout);
    if (error = settings->reject_unknown_keys(); !error.is_ok()) return error;
  }
  std::map<std::string, uint32_t> streams;
  for (const auto& b : bindings) {
    if (!b.config) {
      error = Status::invalid("stream '" + b.stream_name + "' has no kinesis settings");
      return error;
    }
    std::string name;
    if (!take(b.config->get_string("stream"), name, error)) return error;
    if (error = b.config->reject_unknown_keys(); !error.is_ok()) return error;
    streams[name] = b.stream;
  }
  if (streams.empty()) {
    error = Status::invalid("the kinesis source has no streams to read");
    return error;
  }
  return std::unique_ptr<Source>(std::make_unique<KinesisSource>(std::move(s), std::move(streams)));
}

}  // namespace pinstream::connectors::kinesis
