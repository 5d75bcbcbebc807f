#include "connectors/kafka/kafka_settings.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "connectors/aws/credentials.h"
#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/msk_iam_auth.h"

namespace pinstream::connectors::kafka {
using core::Status;

namespace {

// `auth` (after `properties`, which it checks against).
Status read_auth(const core::ConfigNode& s, KafkaSettings& out) {
  PS_ASSIGN_OR_RETURN(std::string auth, s.get_string("auth", "none"));
  if (auth == "none") return Status::ok();
  if (auth != "msk-iam")
    return s.find("auth")->error("must be none or msk-iam, not '" + auth + "'");
  out.msk_iam = true;
  PS_ASSIGN_OR_RETURN(out.region, s.get_string("region", aws::region_from_environment()));
  if (out.region.empty()) return s.find("region")->error("must not be empty");
  Status st = MskIamAuth::apply_properties(out.props);
  return st.is_ok() ? st : s.find("auth")->error(st.message());
}

Status read_connection(const core::ConfigNode& s, KafkaSettings& out) {
  PS_ASSIGN_OR_RETURN(std::string servers, s.get_string("bootstrap_servers"));
  if (servers.empty()) return s.find("bootstrap_servers")->error("must not be empty");
  PS_ASSIGN_OR_RETURN(std::string group, s.get_string("group_id", "pinstream"));
  if (group.empty()) return s.find("group_id")->error("must not be empty");
  const char* env_instance = std::getenv("PINSTREAM_INSTANCE_ID");
  const bool from_env = env_instance && *env_instance;
  PS_ASSIGN_OR_RETURN(
      std::string instance,
      s.get_string("group_instance_id",
                   from_env ? std::string(env_instance) : default_instance_id(group, host_name())));
  out.instance_from_host = !from_env && !s.find("group_instance_id");
  PS_ASSIGN_OR_RETURN(int64_t timeout,
                      s.get_int("connect_timeout_ms", out.connect_timeout.count()));
  if (timeout <= 0)
    return s.find("connect_timeout_ms")->error("must be a positive number of milliseconds");
  out.connect_timeout = std::chrono::milliseconds(timeout);
  PS_ASSIGN_OR_RETURN(int64_t idle, s.get_int("max_idle_wait_ms", out.max_idle_wait.count()));
  if (idle < 0)
    return s.find("max_idle_wait_ms")->error("must be 0 or a positive number of milliseconds");
  out.max_idle_wait = std::chrono::milliseconds(idle);
  PS_ASSIGN_OR_RETURN(std::string partitions, s.get_string("partitions", "group"));
  if (partitions != "group" && partitions != "all")
    return s.find("partitions")->error("must be group or all, not '" + partitions + "'");
  out.all_partitions = partitions == "all";
  if (out.all_partitions) instance.clear();  // static membership is a group matter
  out.props["bootstrap.servers"] = servers;
  out.props["group.id"] = group;
  if (!instance.empty()) out.props["group.instance.id"] = instance;
  if (const core::ConfigNode* p = s.find("properties")) {
    if (!p->is_map() && !p->is_null()) return p->error("expected a map of librdkafka properties");
    for (const auto& [k, v] : p->entries()) {
      (void)p->find(k);
      if (!v.is_scalar()) return v.error("expected a scalar librdkafka property value");
      out.props[k] = v.scalar();
      if (k == "partition.assignment.strategy") out.strategy_given = true;
    }
  }
  PS_RETURN_IF_ERROR(read_auth(s, out));
  return s.reject_unknown_keys();
}

}  // namespace

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

std::string member_instance_id(const std::string& group, const std::string& host,
                               const std::string& member_hint) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and hosts
  for (char c : member_hint) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return default_instance_id(group, host + "-" + hex);
}

std::string default_instance_id(const std::string& group, const std::string& host) {
  std::string id = group + "-" + host;
  for (char& c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (id.size() > 249) id.resize(249);
  return id;
}

core::Result<KafkaSettings> read_settings(const std::vector<StreamBinding>& bindings,
                                          const core::ConfigNode* settings) {
  KafkaSettings out;
  out.props = {{"enable.auto.commit", "false"},
               {"enable.auto.offset.store", "false"},
               {"auto.offset.reset", "earliest"},
               {"enable.partition.eof", "true"},
               {"partition.assignment.strategy", "cooperative-sticky"},
               {"session.timeout.ms", "6000"},
               {"heartbeat.interval.ms", "1000"},
               {"fetch.wait.max.ms", "100"},
               // Prefetch per partition (librdkafka's defaults: 100,000 messages, 64 MiB): the
               // lanes read every partition a few records at a time (kafka_lanes.cc) and wake
               // a broker whose partitions are all full, so a few polls' worth suffices.
               // Each message costs ~200 bytes of librdkafka's besides its payload, hence a
               // bound by count too (bench/README.md, "Kafka memory").
               {"queued.min.messages", "128"},
               {"queued.max.messages.kbytes", "64"}};
  if (!settings || !settings->is_map())
    return Status::invalid("source.kafka settings are missing (bootstrap_servers, group_id)");
  PS_RETURN_IF_ERROR(read_connection(*settings, out));
  for (const auto& b : bindings) {
    if (!b.config)
      return Status::invalid("stream '" + b.stream_name + "' has no kafka settings (topic)");
    PS_ASSIGN_OR_RETURN(std::string topic, b.config->get_string("topic"));
    PS_RETURN_IF_ERROR(b.config->reject_unknown_keys());
    out.topics[topic] = b.stream;
  }
  // Validate the properties now, so that a typo is a config error (exit 2), not a runtime one.
  PS_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, make_conf(out.props));
  rd_kafka_conf_destroy(conf);
  return out;
}

}  // namespace pinstream::connectors::kafka
