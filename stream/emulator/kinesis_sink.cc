#include "stream/emulator/kinesis_sink.h"

#include <chrono>
#include <set>
#include <thread>

#include "connectors/kinesis/producer.h"

namespace pinstream::runtime::emulator {
namespace kin = connectors::kinesis;

std::string kinesis_stream_for_topic(const std::string& topic) {
  std::string out = "streaming-" + topic;
  for (char& c : out)
    if (c == '.') c = '-';
  return out;
}

namespace {

class KinesisSink final : public Sink {
 public:
  KinesisSink(std::unique_ptr<kin::Producer> p, KinesisSinkSettings s)
      : producer_(std::move(p)), settings_(std::move(s)) {}

  core::Status send(const std::string& topic, const Record& r) override {
    std::string stream = kinesis_stream_for_topic(topic);
    if (settings_.create_streams && !ready_.count(stream)) {
      PS_RETURN_IF_ERROR(ensure_stream(stream));
      ready_.insert(stream);
    }
    return producer_->put(stream, std::to_string(r.ind), r.json);
  }
  core::Status flush() override { return producer_->flush(); }

 private:
  // Creates `stream` unless it exists, then waits (≤ 60 s) until it is ACTIVE.
  core::Status ensure_stream(const std::string& stream) {
    kin::Api& api = producer_->api();
    std::string status;
    kin::ApiError e = api.stream_status(stream, status);
    if (e.kind == kin::ErrorKind::kNotFound) {
      e = api.create_stream(stream, settings_.shards);
      if (!e.ok() && e.message.find("ResourceInUseException") == std::string::npos)
        return e.to_status();
    } else if (!e.ok()) {
      return e.to_status();
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (api.stream_status(stream, status).ok() && status == "ACTIVE") return core::Status::ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the service
    }
    return core::Status::unavailable("Kinesis stream " + stream + " did not become ACTIVE");
  }

  std::unique_ptr<kin::Producer> producer_;
  KinesisSinkSettings settings_;
  std::set<std::string> ready_;
};

}  // namespace

core::Result<std::unique_ptr<Sink>> make_kinesis_sink(const KinesisSinkSettings& settings) {
  kin::ProducerOptions options;
  options.api.endpoint = settings.endpoint;
  options.api.region = settings.region;
  PS_ASSIGN_OR_RETURN(auto producer, kin::Producer::create(options));
  return std::unique_ptr<Sink>(new KinesisSink(std::move(producer), settings));
}

}  // namespace pinstream::runtime::emulator
