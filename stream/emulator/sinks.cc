#include "stream/emulator/sinks.h"

#include "connectors/kafka/producer.h"
#include "stream/emulator/kinesis_sink.h"

namespace pinstream::runtime::emulator {
namespace {

class KafkaSink final : public Sink {
 public:
  explicit KafkaSink(std::unique_ptr<connectors::kafka::Producer> p) : p_(std::move(p)) {}
  core::Status send(const std::string& topic, const Record& r) override {
    return p_->produce(topic, std::to_string(r.ind), r.json);
  }
  core::Status flush() override { return p_->flush(std::chrono::seconds(60)); }

 private:
  std::unique_ptr<connectors::kafka::Producer> p_;
};

}  // namespace

core::Result<std::unique_ptr<Sink>> make_sink(const std::string& kind, const SinkSettings& s) {
  if (kind == "files") {
    if (s.out.empty()) return core::Status::invalid("--sink files needs --out DIR");
    return make_files_sink(s.out, s.partitions);
  }
  if (kind == "kafka-rest") {
    if (s.rest_url.empty()) return core::Status::invalid("--sink kafka-rest needs --rest-url URL");
    return make_kafka_rest_sink(s.rest_url);
  }
  if (kind == "kafka") {
    PS_ASSIGN_OR_RETURN(auto p,
                        connectors::kafka::Producer::create(s.brokers, {}, s.kafka_msk_iam_region));
    return std::unique_ptr<Sink>(new KafkaSink(std::move(p)));
  }
  if (kind == "kinesis")
    return make_kinesis_sink({s.kinesis_endpoint, s.kinesis_region, true, s.partitions});
  return core::Status::invalid("unknown sink '" + kind + "' (kafka, kafka-rest, kinesis, files)");
}

}  // namespace pinstream::runtime::emulator
