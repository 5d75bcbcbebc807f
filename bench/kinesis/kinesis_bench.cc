// Kinesis throughput: loads a stream with the PutRecords producer, then reads it back to
// drained with the Kinesis source, and prints records/s for both (plus base64 decode MB/s).
//   kinesis_bench <endpoint> <records> <shards> <record_bytes> [min_call_interval_ms]
// Needs AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (any values for the emulators).
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "connectors/kinesis/kinesis_source.h"
#include "connectors/kinesis/producer.h"
#include "stream/core/base64.h"
#include "stream/core/config.h"

namespace kin = pinstream::connectors::kinesis;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s ENDPOINT RECORDS SHARDS RECORD_BYTES [MIN_CALL_MS]\n", argv[0]);
    return 2;
  }
  const std::string endpoint = argv[1];
  const long records = std::stol(argv[2]);
  const int shards = std::stoi(argv[3]);
  const size_t record_bytes = std::stoul(argv[4]);
  const std::string min_call = argc > 5 ? argv[5] : "200";
  const std::string stream = "bench-" + std::to_string(::getpid());

  kin::ProducerOptions po;
  po.api.endpoint = endpoint;
  auto producer = kin::Producer::create(po);
  if (!producer) return std::fprintf(stderr, "%s\n", producer.error().to_string().c_str()), 1;
  kin::Api& api = (*producer)->api();
  if (auto e = api.create_stream(stream, shards); !e.ok())
    return std::fprintf(stderr, "%s\n", e.message.c_str()), 1;
  std::string status;
  while (!api.stream_status(stream, status).ok() || status != "ACTIVE")
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  std::string payload(record_bytes, 'x');
  auto t0 = Clock::now();
  for (long i = 0; i < records; ++i) {
    std::string body = "{\"ind\":" + std::to_string(i) + ",\"p\":\"";
    body += payload.substr(0, record_bytes > body.size() + 2 ? record_bytes - body.size() - 2 : 0);
    body += "\"}";
    if (auto st = (*producer)->put(stream, std::to_string(i), std::move(body)); !st.is_ok())
      return std::fprintf(stderr, "%s\n", st.to_string().c_str()), 1;
  }
  if (auto st = (*producer)->flush(); !st.is_ok())
    return std::fprintf(stderr, "%s\n", st.to_string().c_str()), 1;
  double put_s = seconds_since(t0);

  auto cfg = pinstream::core::parse_config_text("settings: {endpoint: '" + endpoint +
                                                    "', min_call_interval_ms: " + min_call +
                                                    "}\ns: {stream: " + stream + "}\n",
                                                "bench.yaml");
  auto built = kin::make_source({{0, "s", *cfg->get("s")}}, *cfg->get("settings"));
  if (!built) return std::fprintf(stderr, "%s\n", built.error().to_string().c_str()), 1;
  auto source = std::move(built).value();
  if (pinstream::core::Status st = source->open({}); !st.is_ok())
    return std::fprintf(stderr, "%s\n", st.to_string().c_str()), 1;
  pinstream::core::Batch batch;
  long got = 0;
  size_t bytes = 0;
  auto t1 = Clock::now();
  while (got < records || !source->drained()) {
    batch.clear();
    auto n = source->poll(batch, std::chrono::milliseconds(200), 10000);
    if (!n) return std::fprintf(stderr, "%s\n", n.error().to_string().c_str()), 1;
    got += static_cast<long>(*n);
    for (size_t i = 0; i < batch.size; ++i) bytes += batch.records[i].bytes.size();
    if (seconds_since(t1) > 600) break;
  }
  double get_s = seconds_since(t1);

  std::string encoded, decoded;
  pinstream::core::base64_encode(std::string(64 << 20, 'q'), encoded);
  auto t2 = Clock::now();
  for (int i = 0; i < 4; ++i) pinstream::core::base64_decode(encoded, decoded);
  double dec_s = seconds_since(t2);

  std::printf("put: %ld records in %.2f s = %.0f records/s (%ld PutRecords calls)\n", records,
              put_s, static_cast<double>(records) / put_s, static_cast<long>((*producer)->calls()));
  std::printf(
      "get: %ld records (%.1f MB) in %.2f s = %.0f records/s, %d shards, %s ms/call/shard\n", got,
      static_cast<double>(bytes) / 1e6, get_s, static_cast<double>(got) / get_s, shards,
      min_call.c_str());
  std::printf("base64 decode: %.0f MB/s\n",
              4.0 * static_cast<double>(encoded.size()) / 1e6 / dec_s);
  return got == records ? 0 : 1;
}
