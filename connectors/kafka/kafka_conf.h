// librdkafka configuration from a property map; secrets are never echoed in errors.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>

#include "stream/core/log.h"
#include "stream/core/status.h"

namespace pinstream::connectors::kafka {

inline core::Result<rd_kafka_conf_t*> make_conf(const std::map<std::string, std::string>& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return core::Status::invalid("Kafka property '" + k + "' = '" + core::redact(k, v) +
                                   "': " + err);
    }
  }
  return conf;
}

}  // namespace pinstream::connectors::kafka
