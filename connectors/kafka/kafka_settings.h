// The Kafka source's settings (`source.kafka` and each stream's `source.kafka`), read and
// checked before anything connects, so that a typo is a config error (exit 2).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "connectors/source.h"

namespace pinstream::connectors::kafka {

// `source.kafka`:
//   bootstrap_servers   required; "host:port[,...]"
//   group_id            Default: "pinstream"
//   group_instance_id   Default: $PINSTREAM_INSTANCE_ID, else "<group_id>-<hostname>", made
//                       "<group_id>-<hostname>-<8 hex digits of the data directory>" by the
//                       runtime (Source::set_membership), so that several processes of one
//                       group on one host get distinct ids that survive their restarts (static
//                       membership: a restarted process takes its partitions back at once
//                       instead of waiting for its old session to time out, and the others keep
//                       theirs). "" turns static membership off. Two processes with one id
//                       fence each other: the newer wins, the older fails naming the key.
//   partitions          Default: group. `group`: the consumer group assigns the partitions
//                       (scale-out, SPEC section 9). `all`: this process assigns itself every
//                       partition of the topics (no group join: for a single process, e.g. a
//                       scheduled replay); offsets are still committed under group_id, and
//                       group_instance_id is not used.
//   connect_timeout_ms  Default: 30000. How long the cluster may stay unreachable: never
//                       reached since start, or lost during an --until-idle run, the run
//                       fails (exit 1) naming the servers.
//   max_idle_wait_ms    Default: 200. How long a partition whose records are known to exist
//                       but not fetched yet holds the others back (they are read in step,
//                       partition p of every topic together, as Kafka Streams'
//                       max.task.idle.ms); 0 never waits.
//   auth                Default: none. `msk-iam`: Amazon MSK with IAM (SASL_SSL + OAUTHBEARER,
//                       the MSK IAM token from the AWS credential chain, refreshed by
//                       librdkafka before it expires; connectors/kafka/msk_iam_auth.h).
//   region              with auth: msk-iam only. Default: AWS_REGION, AWS_DEFAULT_REGION,
//                       the profile's region, else us-east-1.
//   properties          librdkafka properties, applied last (override everything above;
//                       with msk-iam they may not change security.protocol/sasl.mechanism).
// librdkafka defaults pinstream changes: manual offsets, partition EOF, cooperative-sticky,
// session.timeout.ms 6000 and heartbeat.interval.ms 1000 (a dead member leaves the group
// within seconds; Kafka's 45 s default made a restart after kill -9 wait 108 s on the dev
// broker, whose mock coordinator ignores group.instance.id).
struct KafkaSettings {
  std::map<std::string, std::string> props;  // librdkafka configuration
  std::map<std::string, uint32_t> topics;    // topic -> stream index
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds max_idle_wait{200};
  bool all_partitions = false;      // partitions: all (no consumer group join)
  bool msk_iam = false;             // auth: msk-iam
  bool instance_from_host = false;  // group.instance.id is the host default (see above)
  bool strategy_given = false;      // properties set partition.assignment.strategy
  std::string region;               // for msk_iam
};

// InvalidArgument naming the key (file:line:column) when a setting is wrong or unknown.
core::Result<KafkaSettings> read_settings(const std::vector<StreamBinding>& bindings,
                                          const core::ConfigNode* settings);

// `<group>-<hostname>` with every character Kafka refuses in a group.instance.id
// (outside [A-Za-z0-9._-]) replaced by '_', at most 249 characters.
std::string default_instance_id(const std::string& group, const std::string& host);

// default_instance_id(group, "<host>-<8 hex digits of a hash of member_hint>").
std::string member_instance_id(const std::string& group, const std::string& host,
                               const std::string& member_hint);

// This host's name ("localhost" when it has none).
std::string host_name();

}  // namespace pinstream::connectors::kafka
