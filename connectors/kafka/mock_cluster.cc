#include "connectors/kafka/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <vector>

namespace pinstream::connectors::kafka {

core::Result<std::unique_ptr<MockCluster>> MockCluster::start(int brokers) {
  std::unique_ptr<MockCluster> m(new MockCluster());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return core::Status::internal(std::string("cannot create the mock cluster's handle: ") + err);
  }
  m->rk_ = rk;
  m->cluster_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (!m->cluster_) return core::Status::internal("cannot start librdkafka's mock cluster");
  return m;
}

MockCluster::~MockCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(static_cast<rd_kafka_mock_cluster_t*>(cluster_));
  if (rk_) rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
}

std::string MockCluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(static_cast<rd_kafka_mock_cluster_t*>(cluster_));
}

core::Status MockCluster::create_topic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
      static_cast<rd_kafka_mock_cluster_t*>(cluster_), topic.c_str(), partitions, 1);
  if (e) return core::Status::invalid("cannot create topic " + topic + ": " + rd_kafka_err2str(e));
  return core::Status::ok();
}

core::Status MockCluster::set_broker_down(int broker_id, bool down) {
  auto* c = static_cast<rd_kafka_mock_cluster_t*>(cluster_);
  rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(c, broker_id)
                               : rd_kafka_mock_broker_set_up(c, broker_id);
  if (e) return core::Status::invalid(rd_kafka_err2str(e));
  return core::Status::ok();
}

core::Status MockCluster::push_fetch_errors(int count) {
  return push_request_errors(1 /* Fetch */, count, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
}

core::Status MockCluster::push_request_errors(int api_key, int count, int error_code) {
  if (count < 0 || api_key < 0) return core::Status::invalid("bad fault injection arguments");
  std::vector<rd_kafka_resp_err_t> errs(static_cast<size_t>(count),
                                        static_cast<rd_kafka_resp_err_t>(error_code));
  rd_kafka_mock_push_request_errors_array(static_cast<rd_kafka_mock_cluster_t*>(cluster_),
                                          static_cast<int16_t>(api_key), errs.size(), errs.data());
  return core::Status::ok();
}

}  // namespace pinstream::connectors::kafka
