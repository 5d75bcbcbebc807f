#include "stream/peer_registry.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "stream/core/time.h"

namespace pinstream::runtime {
using nlohmann::json;

namespace {

constexpr const char* kPrefix = "peers/";
constexpr int64_t kLookMs = 200;  // how soon a change of our tasks is written

// Kafka's group.instance.id alphabet, so that a key is a plain file or object name.
std::string key_safe(const std::string& id) {
  std::string out;
  for (char c : id)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  return out;
}

int64_t wall_ms() { return core::system_clock().now_micros() / 1000; }

json held_json(const std::map<int32_t, std::string>& held) {
  json out = json::array();
  for (const auto& [task, reason] : held) out.push_back({{"task", task}, {"reason", reason}});
  return out;
}

}  // namespace

std::string peer_record_json(const PeerInfo& p) {
  return json({{"instance", p.instance},
               {"host", p.host},
               {"pid", p.pid},
               {"address", p.address},
               {"tasks", p.tasks},
               {"held", held_json(p.held)},
               {"epoch", p.epoch},
               {"task_total", p.task_total},
               {"updated_ms", p.updated_ms}})
      .dump();
}

std::optional<PeerInfo> parse_peer_record(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    PeerInfo p;
    p.instance = j.at("instance").get<std::string>();
    p.host = j.value("host", "");
    p.pid = j.value("pid", int64_t{0});
    p.address = j.at("address").get<std::string>();
    p.tasks = j.at("tasks").get<std::vector<int32_t>>();
    if (j.contains("held"))
      for (const auto& h : j["held"]) p.held[h.at("task").get<int32_t>()] = h.value("reason", "");
    p.epoch = j.value("epoch", int64_t{0});
    p.task_total = j.value("task_total", int32_t{0});
    p.updated_ms = j.at("updated_ms").get<int64_t>();
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

PeerRegistry::PeerRegistry(connectors::objstore::ObjectStore& store, PeerInfo self,
                           std::function<CommittedView()> committed,
                           std::function<int32_t()> task_total, PeerRegistryOptions opts)
    : store_(store),
      committed_(std::move(committed)),
      task_total_(std::move(task_total)),
      opts_(opts),
      key_(kPrefix + key_safe(self.instance) + ".json") {
  view_.self = std::move(self);
  view_.stale_ms = opts_.stale_ms;
}

core::Result<std::unique_ptr<PeerRegistry>> PeerRegistry::start(
    connectors::objstore::ObjectStore& store, PeerInfo self,
    std::function<CommittedView()> committed, std::function<int32_t()> task_total,
    PeerRegistryOptions opts) {
  std::unique_ptr<PeerRegistry> r(
      new PeerRegistry(store, std::move(self), std::move(committed), std::move(task_total), opts));
  const int64_t now = wall_ms();
  PS_RETURN_IF_ERROR(r->write_self(now));
  r->read_peers(now);
  r->thread_ = std::thread([p = r.get()] { p->loop(); });
  spdlog::info("Member registered. instance={} address={} record={}/{}", r->view_.self.instance,
               r->view_.self.address, store.describe(), r->key_);
  return r;
}

PeerRegistry::~PeerRegistry() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto st = store_.remove(key_); !st.is_ok())
    spdlog::warn("Member record not removed. key={} error={}", key_, st.message());
}

PeerView PeerRegistry::view() const {
  std::lock_guard<std::mutex> lock(mu_);
  PeerView v = view_;
  // Staleness as of now, not as of the last read.
  const int64_t now = wall_ms();
  for (auto& p : v.peers) p.stale = p.stale || now - p.updated_ms > opts_.stale_ms;
  if (opts_.held) v.self.held = opts_.held();
  return v;
}

core::Status PeerRegistry::write_self(int64_t now) {
  CommittedView c = committed_();
  PeerInfo self;
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.self.tasks = c.reader ? c.meta.state_tasks() : std::vector<int32_t>{};
    view_.self.epoch = c.epoch;
    view_.self.held = opts_.held ? opts_.held() : std::map<int32_t, std::string>();
    view_.self.updated_ms = now;
    view_.task_total = task_total_ ? task_total_() : 0;
    view_.self.task_total = view_.task_total;
    self = view_.self;
  }
  return store_.put(key_, peer_record_json(self));
}

std::vector<PeerInfo> read_peer_records(connectors::objstore::ObjectStore& store,
                                        const std::string& self_instance, int64_t stale_ms,
                                        int64_t now_ms) {
  auto listed = store.list(kPrefix);
  if (!listed) {
    spdlog::warn("Member records not listed. store={} error={}", store.describe(),
                 listed.error().message());
    return {};
  }
  const std::string self_key = kPrefix + key_safe(self_instance) + ".json";
  std::vector<PeerInfo> peers;
  for (const auto& o : *listed) {
    if (o.key == self_key || o.key.size() < 5 || o.key.compare(o.key.size() - 5, 5, ".json") != 0)
      continue;
    auto text = store.get(o.key);
    if (!text) continue;  // removed meanwhile
    auto p = parse_peer_record(*text);
    if (!p) {
      spdlog::warn("Member record unreadable, ignored. key={}", o.key);
      continue;
    }
    p->stale = now_ms - p->updated_ms > stale_ms;
    peers.push_back(std::move(*p));
  }
  return peers;
}

void PeerRegistry::read_peers(int64_t now) {
  std::string self;
  {
    std::lock_guard<std::mutex> lock(mu_);
    self = view_.self.instance;
  }
  std::vector<PeerInfo> peers = read_peer_records(store_, self, opts_.stale_ms, now);
  std::lock_guard<std::mutex> lock(mu_);
  view_.peers = std::move(peers);
}

void PeerRegistry::loop() {
  int64_t last_beat = wall_ms();
  std::vector<int32_t> written;
  std::map<int32_t, std::string> written_held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    written = view_.self.tasks;
  }
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(kLookMs), [this] { return stop_; })) {
    lock.unlock();
    const int64_t now = wall_ms();
    CommittedView c = committed_();
    std::vector<int32_t> tasks = c.reader ? c.meta.state_tasks() : std::vector<int32_t>{};
    auto held = opts_.held ? opts_.held() : std::map<int32_t, std::string>();
    const bool beat = now - last_beat >= opts_.heartbeat_ms;
    if (beat || tasks != written || held != written_held) {
      if (auto st = write_self(now); !st.is_ok())
        spdlog::warn("Member record not written. key={} error={}", key_, st.message());
      written = tasks;
      written_held = std::move(held);
    }
    if (beat) {
      read_peers(now);
      last_beat = now;
    }
    lock.lock();
  }
}

}  // namespace pinstream::runtime
