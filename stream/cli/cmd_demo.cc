// The embedded demo (`pinstream run` without --config, SPEC section 1): an in-process Kafka
// broker (librdkafka mock cluster), the emulator posting into it from a thread, and the
// default Pinterest pipeline writing under ./pinstream-data (or PINSTREAM_DATA) and
// serving the query socket. With --until-idle it posts 500 posts and stops once drained.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "connectors/kafka/mock_cluster.h"
#include "connectors/kafka/producer.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/emulator/generator.h"
#include "stream/engine.h"

namespace pinstream::cli {
namespace fs = std::filesystem;

namespace {

// The demo owns its data dir: it starts fresh each time, but never wipes a directory it
// did not create (marked by a DEMO file).
core::Status prepare_data_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_empty(dir, ec)) {
    if (!fs::exists(fs::path(dir) / "DEMO"))
      return core::Status::invalid(
          dir + " holds data the demo did not write; set PINSTREAM_DATA to another directory");
    for (const char* sub : {"state", "checkpoints", "tables"})
      fs::remove_all(fs::path(dir) / sub, ec);
  }
  fs::create_directories(dir, ec);
  std::ofstream(fs::path(dir) / "DEMO") << "written by `pinstream run` (the embedded demo)\n";
  return core::Status::ok();
}

// The Kafka mock cluster with the pipeline's three topics.
core::Result<std::unique_ptr<connectors::kafka::MockCluster>> start_broker(const std::string& id) {
  PS_ASSIGN_OR_RETURN(auto cluster, connectors::kafka::MockCluster::start(1));
  for (const char* s : {"pin", "geo", "user"})
    PS_RETURN_IF_ERROR(cluster->create_topic(id + "." + s, 3));
  return cluster;
}

// The default pipeline, reading from `bootstrap` and writing under `data`.
core::Result<runtime::PipelineConfig> demo_config(const std::string& bootstrap,
                                                  const std::string& data) {
  ::setenv("PINSTREAM_SOURCE", "kafka", 1);
  ::setenv("PINSTREAM_KAFKA", bootstrap.c_str(), 1);
  ::setenv("PINSTREAM_DATA", data.c_str(), 1);
  // Its checkpoints stay in the data dir it wipes: a store kept elsewhere would be restored.
  ::unsetenv("PINSTREAM_CHECKPOINTS");
  const char* name = "<embedded examples/pinterest/pipeline.yaml>";
  PS_ASSIGN_OR_RETURN(auto root, core::parse_config_text(runtime::default_pipeline_yaml(), name));
  return runtime::parse_pipeline_config(std::make_shared<core::ConfigNode>(std::move(root)), name);
}

// The emulator's thread body: posts (500 with --until-idle, else ~50 a second until
// stopped) with the current time as their timestamps, then sets `done`.
void emulate(const std::string& bootstrap, const std::string& id, bool until_idle,
             const std::atomic<bool>& stop, std::atomic<bool>& done) {
  auto producer = connectors::kafka::Producer::create(bootstrap, {});
  if (!producer) {
    spdlog::error("Emulator cannot produce. error={}", producer.error().message());
    done = true;
    return;
  }
  runtime::emulator::GeneratorOptions go;
  go.timestamps_now = true;
  go.malformed_rate = 0.005;
  go.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  runtime::emulator::Generator gen(go);
  runtime::emulator::Record pin, geo, user;
  const int64_t limit = until_idle ? 500 : INT64_MAX;
  for (int64_t i = 0; i < limit && !stop.load(); ++i) {
    gen.set_now_micros(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    gen.next(pin, geo, user);
    for (const auto* r : {&pin, &geo, &user})
      (void)(*producer)->produce(id + "." + r->stream, std::to_string(r->ind), r->json);
    if (!until_idle) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (void)(*producer)->flush(std::chrono::seconds(30));
  done = true;
}

// Runs the engine and the query server until stopped (or drained with --until-idle).
int run_pipeline(const runtime::PipelineConfig& cfg, bool until_idle, std::atomic<bool>* stop) {
  runtime::EngineOptions opts;
  opts.until_idle = until_idle;
  opts.stop = stop;
  auto engine = runtime::Engine::open(cfg, opts);
  if (!engine) return report_error(engine.error());
  auto server = start_query_server(cfg, **engine);
  if (!server) return report_error(server.error());
  core::Status st = (*engine)->run();
  return st.is_ok() ? 0 : report_error(st);
}

}  // namespace

int run_demo(bool until_idle, std::atomic<bool>* stop) {
  const char* data_env = std::getenv("PINSTREAM_DATA");
  std::string data = data_env && *data_env ? data_env : "./pinstream-data";
  if (core::Status st = prepare_data_dir(data); !st.is_ok()) return report_error(st);
  std::string id = "pinterest";
  if (const char* e = std::getenv("PINSTREAM_ID"); e && *e) id = e;
  auto cluster = start_broker(id);
  if (!cluster) return report_error(cluster.error());
  const std::string bootstrap = (*cluster)->bootstrap_servers();
  auto cfg = demo_config(bootstrap, data);
  if (!cfg) return report_error(cfg.error());
  spdlog::info(
      "Embedded demo: Kafka mock cluster, emulator and the default pipeline. "
      "bootstrap={} data_dir={} socket={}",
      bootstrap, data, cfg->runtime.socket_path());
  spdlog::info("Try: pinstream query most_popular_category_by_country   (Ctrl-C stops the demo)");
  std::atomic<bool> emulator_done{false};
  std::thread emulator([&] { emulate(bootstrap, id, until_idle, *stop, emulator_done); });
  if (until_idle) {  // the pipeline stops once drained: let the emulator finish first
    while (!emulator_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int rc = run_pipeline(*cfg, until_idle, stop);
  stop->store(true);
  emulator.join();
  return rc;
}

}  // namespace pinstream::cli
