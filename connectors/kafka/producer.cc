#include "connectors/kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include "connectors/aws/credentials.h"
#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/msk_iam_auth.h"

namespace pinstream::connectors::kafka {

struct ProducerCallbacks {
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) {
      auto* p = static_cast<Producer*>(opaque);
      p->failed_++;
      p->last_error_ = rd_kafka_err2str(m->err);
    }
  }
  static void on_token_refresh(rd_kafka_t* rk, const char*, void* opaque) {
    static_cast<Producer*>(opaque)->auth_->refresh(rk);
  }
};

core::Result<std::unique_ptr<Producer>> Producer::create(
    const std::string& brokers, const std::map<std::string, std::string>& properties,
    const std::string& msk_iam_region) {
  std::unique_ptr<Producer> p(new Producer());
  // Batches of at most 16 KiB, the Java producer's batch.size (and so the REST proxy's that
  // the emulated users post through): a consumer fetches whole batches, so the batch size
  // bounds what a fetch brings per partition (librdkafka's default is 1 MB).
  std::map<std::string, std::string> props = {{"bootstrap.servers", brokers},
                                              {"linger.ms", "20"},
                                              {"batch.size", "16384"},
                                              {"enable.idempotence", "false"}};
  for (const auto& [k, v] : properties) props[k] = v;
  if (!msk_iam_region.empty()) {
    PS_RETURN_IF_ERROR(MskIamAuth::apply_properties(props));
    p->auth_ = std::make_unique<MskIamAuth>(msk_iam_region, aws::default_credentials_chain());
  }
  PS_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, make_conf(props));
  rd_kafka_conf_set_dr_msg_cb(conf, ProducerCallbacks::on_delivery);
  rd_kafka_conf_set_opaque(conf, p.get());
  if (p->auth_) MskIamAuth::prepare(conf, &ProducerCallbacks::on_token_refresh);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return core::Status::invalid(std::string("cannot create a Kafka producer: ") + err);
  }
  p->rk_ = rk;
  if (p->auth_) PS_RETURN_IF_ERROR(MskIamAuth::start(rk));
  return p;
}

Producer::~Producer() {
  if (rk_) {
    rd_kafka_flush(static_cast<rd_kafka_t*>(rk_), 5000);
    rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
  }
}

core::Status Producer::produce(const std::string& topic, const std::string& key,
                               const std::string& value) {
  auto* rk = static_cast<rd_kafka_t*>(rk_);
  while (true) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // librdkafka's RD_KAFKA_V_* macros
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
#pragma GCC diagnostic pop
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 50);
      continue;
    }
    return core::Status::io(std::string("produce to ") + topic + " failed: " + rd_kafka_err2str(e));
  }
  rd_kafka_poll(rk, 0);
  return core::Status::ok();
}

core::Status Producer::flush(std::chrono::milliseconds timeout) {
  auto* rk = static_cast<rd_kafka_t*>(rk_);
  rd_kafka_resp_err_t e = rd_kafka_flush(rk, static_cast<int>(timeout.count()));
  if (e) return core::Status::unavailable(std::string("flush timed out: ") + rd_kafka_err2str(e));
  if (failed_)
    return core::Status::io(std::to_string(failed_) +
                            " messages were not delivered: " + last_error_);
  return core::Status::ok();
}

}  // namespace pinstream::connectors::kafka
